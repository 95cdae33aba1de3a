/** The hot-path rewrites of lib/log (no regex/array/copy per line) against the straightforward forms they replaced. */
import { dynoFromPod, parseKafkaMessage } from '../../lib/log/parse';
import { toAkkerisText, toRfc5424, toSseEvent } from '../../lib/log/format';
import type { LogLine } from '../../lib/log/line';
import { logLine } from '../helpers/log-line';

function dynoReference(app: string, processType: string, podName: string): string {
  const prefixes = [`${app}--${processType}-`, `${app}-${processType}-`, `${app}-`];
  const prefix = prefixes.find((p) => podName.startsWith(p) && podName.length > p.length);
  return `${processType}.${prefix ? podName.slice(prefix.length) : podName}`;
}

describe('lib/log hot path', () => {
  it('dynoFromPod matches the prefix-list form', () => {
    const apps = ['api', 'a', 'api-x', ''];
    const types = ['web', 'worker', '', 'w-1'];
    const rests = [
      '',
      '-',
      '--',
      '-web',
      '-web-',
      '-web-1',
      '--web-',
      '--web-1-abc',
      '--worker-5d8f9-x2k',
      '-worker-1',
      '-1562910588-cg82f',
      'x-1',
      '---',
      '--w-1-2',
      '-w-1-',
    ];
    let n = 0;
    for (const app of apps) {
      for (const t of types) {
        for (const r of rests) {
          for (const pod of [`${app}${r}`, `other${r}`, r]) {
            expect([app, t, pod, dynoFromPod(app, t, pod)]).toEqual([app, t, pod, dynoReference(app, t, pod)]);
            n++;
          }
        }
      }
    }
    expect(n).toBe(apps.length * types.length * rests.length * 3);
  });

  it('whitespace-only values are empty, whatever the whitespace; printable first characters are not', () => {
    for (const v of ['', ' ', '\n\t ', '\u00a0', '\ufeff', '\u2028 ', Buffer.from('  \r\n')]) {
      expect(parseKafkaMessage({ topic: 'space', partition: 0, offset: '1', value: v })).toMatchObject({ ok: false, kind: 'empty' });
    }
    for (const v of ['x', '{', '\u00a0{}', ' {"a":1}']) {
      const r = parseKafkaMessage({ topic: 'space', partition: 0, offset: '1', value: v });
      expect(r.ok ? 'ok' : r.kind).not.toBe('empty');
    }
  });

  const line = (over: Partial<LogLine>): LogLine =>
    logLine({
      time: new Date('2018-03-24T01:07:20.123Z'),
      dyno: 'web.1-a',
      message: 'hello',
      position: { topic: 'space', partition: 0, offset: '1' },
      ...over,
    });

  it('RFC5424 header fields: printable ASCII kept as is, anything else replaced, capped, NILVALUE when empty', () => {
    expect(toRfc5424(line({}), { hostname: 'api-space' })).toBe('<14>1 2018-03-24T01:07:20.123Z api-space app web.1-a - - hello');
    expect(toRfc5424(line({ dyno: '' }), { hostname: '' })).toBe('<14>1 2018-03-24T01:07:20.123Z - app - - - hello');
    expect(toRfc5424(line({ dyno: 'wé b\t1' }), { hostname: 'h'.repeat(300) })).toBe(`<14>1 2018-03-24T01:07:20.123Z ${'h'.repeat(255)} app w__b_1 - - hello`);
    expect(toRfc5424(line({ source: 'x'.repeat(60) }), { hostname: 'h' })).toContain(` h ${'x'.repeat(48)} web.1-a `);
  });

  it('the time rendering follows each line, also when consecutive lines share or change their instant', () => {
    const times = [
      '2018-03-24T01:07:20.123Z',
      '2018-03-24T01:07:20.123Z',
      '2018-03-24T01:07:20.124Z',
      '2018-03-24T01:07:20.123Z',
      '+275760-09-13T00:00:00.000Z',
    ];
    for (const t of times) expect(toAkkerisText(line({ time: new Date(t) }))).toBe(`${t} api-space app[web.1-a]: hello`);
    expect(() => toAkkerisText(line({ time: new Date(NaN) }))).toThrow(RangeError);
    expect(() => toAkkerisText(line({ time: new Date(NaN) }))).toThrow(RangeError);
  });

  it('SSE events: single-line data takes the short path, ids are still cleaned', () => {
    expect(toSseEvent('a\0b\rc', 'x y')).toBe('id: abc\ndata: x y\n\n');
    expect(toSseEvent('', 'x')).toBe('id: \ndata: x\n\n');
    expect(toSseEvent('1', 'x\r')).toBe('id: 1\ndata: x\ndata: \n\n');
  });
});
