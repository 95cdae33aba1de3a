/** Lines are lines: a tenant's message cannot forge another line's prefix nor drive a terminal, in text, SSE, NDJSON and the CLI. */
import fc from 'fast-check';
import type { LogLine } from '../../lib/log/line';
import { toAkkerisText, toNdjson, toSseEvent, visibleControls } from '../../lib/log/format';
import { colorLogLine, renderStatus, table, visible, visibleJson } from '../../cli/render';
import pc from 'picocolors';

const line: LogLine = {
  time: new Date('2026-12-08T01:00:00.000Z'),
  app: 'api',
  space: 'tenant',
  appKey: 'api-tenant',
  source: 'app',
  dyno: 'web.1-abc',
  processType: 'web',
  severity: 6,
  message: '',
  position: { topic: 'tenant', partition: 0, offset: '1' },
};
const prefix = '2026-12-08T01:00:00.000Z api-tenant app[web.1-abc]: ';
const text = (message: string) => toAkkerisText({ ...line, message });

/** What an EventSource client gets: each event's data, its `data:` lines joined by LF (HTML §9.2.6). */
function sseEventData(stream: string): string[] {
  return stream
    .split(/\r\n\r\n|\n\n|\r\r/)
    .filter((block) => block !== '')
    .map((block) =>
      block
        .split(/\r\n|\r|\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice('data:'.length).replace(/^ /, ''))
        .join('\n'),
    );
}

/** Any C0 control but tab, DEL or C1 control. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

const forged = 'line1\n2026-12-08T00:00:00.000Z victim-space akkeris/router: at=info FORGED';

describe('text: a message line break never starts a line with another prefix', () => {
  it('each physical line of a multi-line message repeats its own prefix', () => {
    expect(text(forged)).toBe(`${prefix}line1\n${prefix}2026-12-08T00:00:00.000Z victim-space akkeris/router: at=info FORGED`);
    expect(text('a\r\nb')).toBe(`${prefix}a\n${prefix}b`);
    expect(text('a\n\nb')).toBe(`${prefix}a\n${prefix}\n${prefix}b`);
  });

  it('a forged L11 notice is part of the tenant’s line', () => {
    const out = text('ok\n2026-12-08T00:00:00.000Z api-tenant logway: Error L11 (Tail buffer overflow)').split('\n');
    expect(out.every((l) => l.startsWith(prefix))).toBe(true);
  });

  it('a lone CR cannot return the cursor over the prefix', () => {
    expect(text('x\r2026-12-08T00:00:00.000Z victim-space akkeris/router: FORGED')).toBe(
      `${prefix}x\\x0d2026-12-08T00:00:00.000Z victim-space akkeris/router: FORGED`,
    );
  });
});

describe('text and SSE: control characters are visible and harmless', () => {
  const cases: [string, string, string][] = [
    ['ESC CSI screen clear', '\u001b[2J\u001b[H', '\\x1b[2J\\x1b[H'],
    ['OSC 52 clipboard write', '\u001b]52;c;cm0gLXJmIH4=\u0007', '\\x1b]52;c;cm0gLXJmIH4=\\x07'],
    ['OSC 8 hyperlink', '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\', '\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\'],
    ['OSC 0 title', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
    ['NUL', 'a\u0000b', 'a\\x00b'],
    ['DEL', 'a\u007fb', 'a\\x7fb'],
    ['C1 CSI (U+009B)', '\u009b2J', '\\x9b2J'],
    ['C1 NEL (U+0085)', 'a\u0085b', 'a\\x85b'],
    ['backspace over the prefix', '\b\b\b\bX', '\\x08\\x08\\x08\\x08X'],
  ];
  it.each(cases)('%s', (_name, message, shown) => {
    expect(text(message)).toBe(`${prefix}${shown}`);
    expect(toSseEvent('1', text(message))).toBe(`id: 1\ndata: ${prefix}${shown}\n\n`);
  });

  it('tab and printable Unicode pass untouched', () => {
    expect(text('a\tb é ✓ \u00a0')).toBe(`${prefix}a\tb é ✓ \u00a0`);
  });

  it('the prefix fields cannot break the line either', () => {
    const out = toAkkerisText({ ...line, appKey: 'a\nb', dyno: 'web\u001b[2J', message: 'm' });
    expect(out).toBe('2026-12-08T01:00:00.000Z a\\x0ab app[web\\x1b[2J]: m');
  });
});

describe('property: no message can produce an output line whose prefix differs from its own', () => {
  // Arbitrary text with line breaks and control characters mixed in, forged prefixes included.
  const hostile = fc
    .array(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom('\n', '\r', '\r\n', '\u001b', '\u009b', '\u0000', '\u007f', '\u2028', 'data: ', 'id: 9\n\n', forged),
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(''));

  it('text/plain', () => {
    fc.assert(
      fc.property(hostile, (message) => {
        for (const physical of `${text(message)}\n`.split('\n').slice(0, -1)) {
          expect(physical.startsWith(prefix)).toBe(true);
          expect(CONTROL.test(physical)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('SSE, as an EventSource client reads it', () => {
    fc.assert(
      fc.property(hostile, (message) => {
        const events = sseEventData(toSseEvent('', text(message)));
        expect(events).toHaveLength(1);
        for (const physical of events[0].split('\n')) {
          expect(physical.startsWith(prefix)).toBe(true);
          expect(CONTROL.test(physical)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the visible form keeps every character that is not a control', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(visibleControls(s).replace(/\\x[0-9a-f]{2}/g, '')).toBe(s.replace(new RegExp(CONTROL.source, 'g'), '').replace(/\\x[0-9a-f]{2}/g, ''));
      }),
    );
  });
});

describe('NDJSON', () => {
  it('escapes DEL and C1 controls too; the value is unchanged', () => {
    const message = 'a\u007fb\u009bc\u001bd\ne';
    const out = toNdjson({ ...line, message });
    expect(CONTROL.test(out.slice(0, -1))).toBe(false);
    expect(out).toContain('a\\u007fb\\u009bc\\u001bd\\ne');
    expect(JSON.parse(out).message).toBe(message);
  });
});

describe('CLI output', () => {
  const c = pc.createColors(false);

  it('log lines from any server print controls as text, colours on or off', () => {
    const raw = `${prefix}\u001b]52;c;eA==\u0007\u009b2J\u0000`;
    expect(colorLogLine(raw, false)).toBe(`${prefix}\\x1b]52;c;eA==\\x07\\x9b2J\\x00`);
    const coloured = colorLogLine(raw, true);
    expect(coloured).toContain('\\x1b]52;c;eA==\\x07\\x9b2J\\x00');
    // The only escapes left are logway's own SGR colours.
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(CONTROL);
  });

  it('--json lines keep their JSON value with every control escaped', () => {
    const raw = JSON.stringify({ message: 'a\u009bb\u007f' });
    expect(raw).toMatch(CONTROL);
    const shown = visibleJson(raw);
    expect(shown).not.toMatch(CONTROL);
    expect(JSON.parse(shown)).toEqual({ message: 'a\u009bb\u007f' });
  });

  it('tables and status show server text without controls, columns aligned on what prints', () => {
    const out = table(
      ['ID', 'URL'],
      [
        ['d\u001b[2J', 'syslog+tls://x'],
        ['e', 'y'],
      ],
      c,
    );
    expect(out).toBe('ID        URL\nd\\x1b[2J  syslog+tls://x\ne         y\n');
    const status = renderStatus(
      'http://x',
      // A hostile server may send any text where the document says an enum.
      { state: 'DOWN\u001b]0;t\u0007', message: 'm\u009b', dependencies: { kafka: { state: 'DOWN', error: 'e\u001b[5m' } } } as unknown as Parameters<
        typeof renderStatus
      >[1],
      c,
    );
    for (const l of status.split('\n')) expect(l).not.toMatch(CONTROL);
    expect(visible('\u0085')).toBe('\\x85');
  });
});
