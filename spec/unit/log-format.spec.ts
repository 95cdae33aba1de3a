import fc from 'fast-check';
import type { LogLine } from '../../lib/log/line';
import {
  frameNewline,
  frameOctetCounted,
  l11Line,
  sseComment,
  sseRetry,
  toAkkerisText,
  toL11Line,
  toNdjson,
  toRfc5424,
  toSseEvent,
  truncateUtf8,
} from '../../lib/log/format';

const webLine: LogLine = {
  time: new Date('2018-03-24T01:07:20.123Z'),
  app: 'appname',
  space: 'space',
  appKey: 'appname-space',
  source: 'app',
  dyno: 'web.1562910588-cg82f',
  processType: 'web',
  severity: 6,
  message: 'GET /health 200',
  position: { topic: 'space', partition: 2, offset: '9007199254740993' },
};

const routerLine: LogLine = {
  ...webLine,
  source: 'akkeris/router',
  dyno: '',
  processType: '',
  message: 'method=GET status=200 host=appname-space path=/',
  position: { topic: 'alamoweblogs', partition: 0, offset: '7' },
};

describe('toAkkerisText', () => {
  it('renders the Akkeris session line', () => {
    expect(toAkkerisText(webLine)).toBe('2018-03-24T01:07:20.123Z appname-space app[web.1562910588-cg82f]: GET /health 200');
  });

  it('renders platform sources without brackets', () => {
    expect(toAkkerisText(routerLine)).toBe('2018-03-24T01:07:20.123Z appname-space akkeris/router: method=GET status=200 host=appname-space path=/');
    expect(toAkkerisText({ ...routerLine, source: 'akkeris/build', message: 'Step 1/7' })).toBe(
      '2018-03-24T01:07:20.123Z appname-space akkeris/build: Step 1/7',
    );
  });

  it('always shows milliseconds', () => {
    expect(toAkkerisText({ ...webLine, time: new Date('2018-03-24T01:07:20Z') })).toBe(
      '2018-03-24T01:07:20.000Z appname-space app[web.1562910588-cg82f]: GET /health 200',
    );
  });
});

describe('toNdjson', () => {
  it('is one JSON object with snake_case fields and a newline', () => {
    const out = toNdjson(webLine);
    expect(out).toBe(
      '{"time":"2018-03-24T01:07:20.123Z","app":"appname","space":"space","app_key":"appname-space","source":"app",' +
        '"dyno":"web.1562910588-cg82f","process_type":"web","severity":6,"message":"GET /health 200",' +
        '"kafka_topic":"space","kafka_partition":2,"kafka_offset":"9007199254740993"}\n',
    );
    expect(out.indexOf('\n')).toBe(out.length - 1);
  });

  it('escapes newlines inside the message', () => {
    const out = toNdjson({ ...webLine, message: 'a\nb' });
    expect(out.split('\n')).toHaveLength(2);
    expect(JSON.parse(out).message).toBe('a\nb');
  });
});

describe('SSE', () => {
  it('one event per line', () => {
    expect(toSseEvent('2:0:7', 'hello')).toBe('id: 2:0:7\ndata: hello\n\n');
  });

  it('multi-line data becomes several data: fields; CR/LF never reach the id', () => {
    expect(toSseEvent('a\nb', 'one\ntwo\r\nthree\rfour')).toBe('id: ab\ndata: one\ndata: two\ndata: three\ndata: four\n\n');
    expect(toSseEvent('1', '')).toBe('id: 1\ndata: \n\n');
  });

  it('comments and retry', () => {
    expect(sseComment('keepalive')).toBe(': keepalive\n\n');
    expect(sseComment('a\nb')).toBe(': a\n: b\n\n');
    expect(sseRetry(3000)).toBe('retry: 3000\n\n');
    expect(sseRetry(2500.7)).toBe('retry: 2500\n\n');
  });
});

describe('toRfc5424', () => {
  it('container lines: PRI user.info, APP-NAME app, PROCID dyno', () => {
    expect(toRfc5424(webLine, { hostname: 'appname-space' })).toBe('<14>1 2018-03-24T01:07:20.123Z appname-space app web.1562910588-cg82f - - GET /health 200');
    expect(toRfc5424({ ...webLine, severity: 3 }, { hostname: 'appname-space' })).toBe(
      '<11>1 2018-03-24T01:07:20.123Z appname-space app web.1562910588-cg82f - - GET /health 200',
    );
  });

  it('platform lines: APP-NAME akkeris, PROCID the source after /', () => {
    expect(toRfc5424(routerLine, { hostname: 'appname-space' })).toBe(
      '<14>1 2018-03-24T01:07:20.123Z appname-space akkeris router - - method=GET status=200 host=appname-space path=/',
    );
    expect(toRfc5424({ ...routerLine, source: 'logway', message: 'x' }, { hostname: 'h' })).toBe('<14>1 2018-03-24T01:07:20.123Z h logway - - - x');
  });

  it('header fields follow RFC5424 §6: NILVALUE when empty, PRINTUSASCII, length caps', () => {
    const out = toRfc5424({ ...webLine, source: 'a b'.repeat(30), dyno: 'p'.repeat(200) }, { hostname: `h\u00e9${'x'.repeat(300)}` });
    const [, , host, appName, procId] = out.split(' ');
    expect(host).toBe(`h_${'x'.repeat(253)}`);
    expect(appName).toBe('a_b'.repeat(16));
    expect(appName).toHaveLength(48);
    expect(procId).toBe('p'.repeat(128));
    expect(toRfc5424(webLine, { hostname: '' }).split(' ')[2]).toBe('-');
  });

  it('keeps UTF-8 in MSG and clamps severity', () => {
    expect(toRfc5424({ ...webLine, severity: 9, message: 'héllo ✓' }, { hostname: 'h' })).toBe(
      '<15>1 2018-03-24T01:07:20.123Z h app web.1562910588-cg82f - - héllo ✓',
    );
  });
});

describe('framing (RFC6587)', () => {
  it('octet counting counts bytes, not characters', () => {
    const framed = frameOctetCounted('héllo ✓ 😀');
    expect(framed.toString('utf8')).toBe('15 héllo ✓ 😀');
    expect(frameOctetCounted(Buffer.from('abc')).toString()).toBe('3 abc');
  });

  it('frames a full syslog message', () => {
    const rfc = toRfc5424(webLine, { hostname: 'appname-space' });
    expect(frameOctetCounted(rfc).toString()).toBe('89 <14>1 2018-03-24T01:07:20.123Z appname-space app web.1562910588-cg82f - - GET /health 200');
  });

  it('newline framing ends with LF and never splits a message', () => {
    expect(frameNewline('a\nb\r\nc').toString()).toBe('a b c\n');
    expect(frameNewline(Buffer.from('x')).toString()).toBe('x\n');
  });

  it('newline framing replaces every C0 control but tab, and DEL: a tenant line cannot forge a frame', () => {
    expect(frameNewline('a\u0000b\u000bc\u000cd\u001be\u007ff\tg\rh').toString()).toBe('a b c d e f\tg h\n');
    const forged = toRfc5424(
      { ...webLine, message: 'ok\u000b<11>1 2018-03-24T01:07:20.123Z victim-space app web.1 - - forged' },
      { hostname: 'appname-space' },
    );
    const framed = frameNewline(forged).toString();
    expect(framed.split('\n')).toEqual([expect.stringContaining('ok <11>1'), '']);
    expect(framed).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f](?!$)/);
  });

  it('property: any message is one newline frame with no control but tab, and octet counts are bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (message) => {
        const msg = toRfc5424({ ...webLine, message }, { hostname: 'appname-space' });
        const nl = frameNewline(msg).toString('utf8');
        expect(nl.indexOf('\n')).toBe(nl.length - 1);
        expect(/[\x00-\x08\x0a-\x1f\x7f]/.test(nl.slice(0, -1))).toBe(false);
        const oc = frameOctetCounted(msg);
        const sp = oc.indexOf(0x20);
        expect(Number(oc.subarray(0, sp).toString('ascii'))).toBe(oc.length - sp - 1);
      }),
    );
  });

  it('property: HOSTNAME, APP-NAME and PROCID are PRINTUSASCII within their RFC5424 limits, whatever the pod name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', maxLength: 400 }), (source, dyno, hostname) => {
        const out = toRfc5424({ ...webLine, source, dyno, message: 'm' }, { hostname });
        const [pri, , host, appName, procId, msgId, sd] = out.split(' ');
        expect(pri).toMatch(/^<\d+>1$/);
        for (const [field, max] of [
          [host, 255],
          [appName, 48],
          [procId, 128],
        ] as [string, number][]) {
          expect(field).toMatch(/^[\x21-\x7e]+$/);
          expect(field.length).toBeLessThanOrEqual(max);
        }
        expect([msgId, sd]).toEqual(['-', '-']);
      }),
    );
  });
});

describe('truncateUtf8', () => {
  it('never splits a multi-byte sequence', () => {
    expect(truncateUtf8('a😀b', 1)).toBe('a');
    expect(truncateUtf8('a😀b', 4)).toBe('a');
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
    expect(truncateUtf8('é', 1)).toBe('');
    expect(truncateUtf8('héllo', 100)).toBe('héllo');
    expect(truncateUtf8('abc', 0)).toBe('');
  });

  it('caps at the byte budget', () => {
    const s = '✓'.repeat(400);
    const t = truncateUtf8(s, 1024);
    expect(Buffer.byteLength(t)).toBe(1023);
    expect(t).toBe('✓'.repeat(341));
  });
});

describe('L11', () => {
  const since = new Date('2018-03-24T01:00:00.000Z');
  const now = new Date('2018-03-24T01:07:20.123Z');

  it('renders the Heroku L11 notice as an Akkeris line from logway', () => {
    expect(toL11Line('appname-space', 12, since, now)).toBe(
      '2018-03-24T01:07:20.123Z appname-space logway: Error L11 (Tail buffer overflow) -> This tail session dropped 12 messages since 2018-03-24T01:00:00.000Z.',
    );
  });

  it('is a LogLine so SSE and NDJSON sessions can carry it', () => {
    expect(l11Line('my-site.example.com', 3, since, now, 'site')).toMatchObject({ app: 'my-site.example.com', space: '', appKey: 'my-site.example.com' });
    expect(l11Line('appname-space', 3, since, now)).toMatchObject({
      app: 'appname',
      space: 'space',
      source: 'logway',
      dyno: '',
      severity: 3,
      position: { topic: '', partition: -1, offset: '' },
    });
  });
});
