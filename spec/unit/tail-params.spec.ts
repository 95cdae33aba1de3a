import { parseSessionRequest, parseLines, parseTail, LINES_NOT_A_NUMBER } from '../../lib/tail/params';
import { Unprocessable } from '../../lib/errors';

const target = { kind: 'app' as const, key: 'api-space' };
const now = new Date('2026-01-01T12:00:00.000Z');
const parse = (body: unknown, maxLines = 250) => parseSessionRequest(body, target, { maxLines, now });

function rejects(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Unprocessable);
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

describe('log-session request validation', () => {
  it('lines: 1..max, numbers or numeric strings; the Akkeris messages verbatim', () => {
    expect(parseLines(1, 250)).toBe(1);
    expect(parseLines(250, 250)).toBe(250);
    expect(parseLines('42', 250)).toBe(42);
    expect(parseLines(' 7 ', 250)).toBe(7);
    for (const bad of [0, -1, 2.5, 'abc', '', '1e2', '0x10', null, undefined, true, [], {}, NaN, Infinity]) {
      expect([bad, rejects(() => parseLines(bad, 250))]).toEqual([bad, LINES_NOT_A_NUMBER]);
    }
    expect(rejects(() => parseLines(251, 250))).toBe('The specified lines field was larger than allowed (250 is the maximum).');
    expect(rejects(() => parseLines('1501', 1500))).toBe('The specified lines field was larger than allowed (1500 is the maximum).');
  });

  it('missing lines is "not a number", as in Akkeris', () => {
    expect(rejects(() => parse({ tail: true }))).toBe(LINES_NOT_A_NUMBER);
    expect(rejects(() => parse(undefined))).toBe(LINES_NOT_A_NUMBER);
  });

  it('tail', () => {
    expect([true, 'true', 1, 'yes'].map(parseTail)).toEqual([true, true, true, true]);
    expect([false, 'false', 0, '0', '', undefined, null].map(parseTail)).toEqual([false, false, false, false, false, false, false]);
  });

  it('filters: dyno or dyno_name, type, source, since (relative or RFC3339), regex', () => {
    expect(parse({ lines: 5, tail: true, dyno: 'web.1', type: 'web', source: 'app', filter: 'GET' })).toEqual({
      kind: 'app', key: 'api-space', lines: 5, tail: true, dyno: 'web.1', type: 'web', source: 'app', filter: 'GET',
    });
    expect(parse({ lines: 5, dyno_name: 'worker' }).dyno).toBe('worker');
    expect(parse({ lines: 5, since: '10m' }).since).toBe(now.getTime() - 600_000);
    expect(parse({ lines: 5, since: '2026-01-01T11:00:00+01:00' }).since).toBe(Date.parse('2026-01-01T10:00:00Z'));
    expect(parse({ lines: 5, dyno: null, source: '', filter: '' })).toEqual({ kind: 'app', key: 'api-space', lines: 5, tail: false });
    expect(rejects(() => parse({ lines: 5, since: 'last tuesday' }))).toMatch(/since/);
    expect(rejects(() => parse({ lines: 5, filter: '(unclosed' }))).toMatch(/^The specified filter is not a valid regular expression/);
    expect(rejects(() => parse({ lines: 5, filter: 'x'.repeat(600) }))).toMatch(/longer than/);
    expect(rejects(() => parse({ lines: 5, filter: '(a+)+$' }))).toMatch(/nested repetition/);
    expect(rejects(() => parse({ lines: 5, filter: '^(\\w+\\s?)*$' }))).toMatch(/nested repetition/);
    expect(parse({ lines: 5, filter: 'HTTP/1.1" 5\\d\\d' }).filter).toBe('HTTP/1.1" 5\\d\\d');
    expect(rejects(() => parse({ lines: 5, dyno: 5 }))).toMatch(/dyno/);
  });
});
