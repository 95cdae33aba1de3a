import { parseSessionRequest, parseLines, parseTail, LINES_NOT_A_NUMBER, SINCE_NOT_A_TIME, SINCE_IN_FUTURE, TAIL_NOT_A_BOOLEAN } from '../../lib/tail/params';
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

  it('tail: a boolean, or exactly the strings "true"/"false" (old clients); missing or null is false; anything else is 422', () => {
    expect([true, 'true'].map(parseTail)).toEqual([true, true]);
    expect([false, 'false', undefined, null].map(parseTail)).toEqual([false, false, false, false]);
    for (const bad of ['yes', 'no', '1', '0', '', 'TRUE', ' true', 1, 0, [], {}]) {
      expect([bad, rejects(() => parseTail(bad))]).toEqual([bad, TAIL_NOT_A_BOOLEAN]);
    }
    expect(TAIL_NOT_A_BOOLEAN).toBe('The specified tail must be a boolean (true or false).');
    expect(rejects(() => parse({ lines: 5, tail: 'yes' }))).toBe(TAIL_NOT_A_BOOLEAN);
    expect(parse({ lines: 5, tail: 'true' }).tail).toBe(true);
  });

  it('dyno, dyno_name, type, source: at most 128 characters and no control characters, else 422 naming the field', () => {
    for (const field of ['dyno', 'dyno_name', 'type', 'source']) {
      const claim = field === 'dyno_name' ? 'dyno' : field;
      expect((parse({ lines: 5, [field]: 'w'.repeat(128) }) as unknown as Record<string, string>)[claim]).toHaveLength(128);
      expect([field, rejects(() => parse({ lines: 5, [field]: 'w'.repeat(129) }))]).toEqual([
        field,
        `The specified ${field} is longer than allowed (128 characters is the maximum).`,
      ]);
      // The 900,000-character dyno of the review.
      expect(rejects(() => parse({ lines: 5, [field]: 'w'.repeat(900_000) }))).toBe(
        `The specified ${field} is longer than allowed (128 characters is the maximum).`,
      );
      for (const bad of ['web\u0000.1', 'web\n1', 'a\u001bb', 'x\u007f', 'web\t1']) {
        expect([field, bad, rejects(() => parse({ lines: 5, [field]: bad }))]).toEqual([field, bad, `The specified ${field} contains control characters.`]);
      }
    }
    // Printable non-ASCII text is not a control character.
    expect(parse({ lines: 5, source: 'akkeris/évent' }).source).toBe('akkeris/évent');
  });

  it('filters: dyno or dyno_name, type, source, since (relative or RFC3339), regex', () => {
    expect(parse({ lines: 5, tail: true, dyno: 'web.1', type: 'web', source: 'app', filter: 'GET' })).toEqual({
      kind: 'app',
      key: 'api-space',
      lines: 5,
      tail: true,
      dyno: 'web.1',
      type: 'web',
      source: 'app',
      filter: 'GET',
    });
    expect(parse({ lines: 5, dyno_name: 'worker' }).dyno).toBe('worker');
    expect(parse({ lines: 5, since: '10m' }).since).toBe(now.getTime() - 600_000);
    expect(parse({ lines: 5, since: '2026-01-01T11:00:00+01:00' }).since).toBe(Date.parse('2026-01-01T10:00:00Z'));
    expect(parse({ lines: 5, dyno: null, source: '', filter: '' })).toEqual({ kind: 'app', key: 'api-space', lines: 5, tail: false });
    expect(rejects(() => parse({ lines: 5, since: 'last tuesday' }))).toMatch(/since/);
    expect(rejects(() => parse({ lines: 5, filter: '(unclosed' }))).toMatch(/^The specified filter is not a valid regular expression/);
    expect(parse({ lines: 5, filter: 'HTTP/1.1" 5\\d\\d' }).filter).toBe('HTTP/1.1" 5\\d\\d');
    expect(rejects(() => parse({ lines: 5, dyno: 5 }))).toMatch(/dyno/);
  });

  it('filter: runs in linear time, so nested repetition is accepted; what RE2 cannot express and long patterns are 422', () => {
    for (const hostile of ['(a+)+$', '^(\\w+\\s?)*$', '(\\w|\\d)+$', '(a|aa)+$', '(.*a){20}', '(x+x+)+y']) {
      expect(parse({ lines: 5, filter: hostile }).filter).toBe(hostile);
    }
    expect(rejects(() => parse({ lines: 5, filter: '(a)\\1' }))).toBe(
      'The specified filter is not a supported regular expression: invalid escape sequence: `\\1`.',
    );
    expect(rejects(() => parse({ lines: 5, filter: 'a(?=b)' }))).toMatch(/^The specified filter is not a supported regular expression: /);
    expect(rejects(() => parse({ lines: 5, filter: '(?<!a)b' }))).toMatch(/^The specified filter is not a supported regular expression: /);
    expect(rejects(() => parse({ lines: 5, filter: 'x'.repeat(257) }))).toBe('The specified filter is longer than allowed (256 characters is the maximum).');
    expect(parse({ lines: 5, filter: 'x'.repeat(256) }).filter).toHaveLength(256);
    const short = (filter: string) => parseSessionRequest({ lines: 5, filter }, target, { maxLines: 250, maxFilterLength: 8, now });
    expect(rejects(() => short('abcdefghi'))).toBe('The specified filter is longer than allowed (8 characters is the maximum).');
    expect(rejects(() => parse({ lines: 5, filter: '(.*a){100}' }))).toMatch(/^The specified filter is too complex/);
    expect(rejects(() => parse({ lines: 5, filter: 7 }))).toBe('The specified filter must be a string (a regular expression).');
  });

  it('since: unparseable, further back than Kafka keeps, or in the future is 422', () => {
    expect(rejects(() => parse({ lines: 5, since: 'last tuesday' }))).toBe(SINCE_NOT_A_TIME);
    expect(rejects(() => parse({ lines: 5, since: '10y' }))).toBe(SINCE_NOT_A_TIME);
    const tooFar = 'The specified since is further back than logs are kept (7 days is the maximum).';
    for (const far of ['999999999d', '999999999s', '8d', '169h', '10081m', '604801s', '2025-12-25T11:59:59Z', '0001-01-01']) {
      expect([far, rejects(() => parse({ lines: 5, since: far }))]).toEqual([far, tooFar]);
    }
    expect(parse({ lines: 5, since: '7d' }).since).toBe(now.getTime() - 604_800_000);
    expect(parse({ lines: 5, since: '2025-12-25T12:00:00Z' }).since).toBe(Date.parse('2025-12-25T12:00:00Z'));
    const withMax = (since: string, maxSinceSeconds: number) => parseSessionRequest({ lines: 5, since }, target, { maxLines: 250, maxSinceSeconds, now });
    expect(rejects(() => withMax('2h', 3_600))).toBe('The specified since is further back than logs are kept (1 hour is the maximum).');
    expect(rejects(() => withMax('91m', 5_400))).toBe('The specified since is further back than logs are kept (90 minutes is the maximum).');
    expect(withMax('1h', 3_600).since).toBe(now.getTime() - 3_600_000);
    // A client clock up to 5 minutes ahead is skew; further is a mistake.
    expect(parse({ lines: 5, since: '2026-01-01T12:05:00Z' }).since).toBe(Date.parse('2026-01-01T12:05:00Z'));
    expect(rejects(() => parse({ lines: 5, since: '2026-01-01T12:05:01Z' }))).toBe(SINCE_IN_FUTURE);
    expect(rejects(() => parse({ lines: 5, since: '9999-12-31' }))).toBe(SINCE_IN_FUTURE);
  });
});
