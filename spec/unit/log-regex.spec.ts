import { compileLogRegex, MAX_FILTER_INPUT_CHARS, MAX_FILTER_PROGRAM_SIZE } from '../../lib/log/regex';
import { Unprocessable } from '../../lib/errors';

function refusal(pattern: string, maxLength = 256): string {
  try {
    compileLogRegex(pattern, maxLength);
  } catch (e) {
    expect(e).toBeInstanceOf(Unprocessable);
    return (e as Error).message;
  }
  throw new Error(`${pattern} was accepted`);
}

const LINES = [
  'at=info method=GET path="/api/v1/users" host=api.example.com status=200 bytes=512 service=12ms',
  'at=error code=H12 desc="Request timeout" method=POST path="/api/orders" status=503',
  'GET /api/health 200',
  'Error: connect ECONNREFUSED 10.0.0.1:5432',
  'worker job 42 done in 1.2s',
  'HTTP/1.1" 502 timeout',
  'élan vital ✓ 日本語',
  '',
];

describe('compileLogRegex', () => {
  it('matches exactly what JavaScript RegExp matched for the filters people write', () => {
    const patterns = [
      'error|timeout',
      'status=5\\d\\d',
      'GET /api',
      '^GET',
      '200$',
      'HTTP/1.1" 5\\d\\d',
      'code=H\\d+',
      '[Ee]rror',
      'job \\d+ done',
      '\\bdone\\b',
      'path="/api/[a-z]+"',
      '\\d+\\.\\d+s',
      '(?:GET|POST) /api',
      'ECONN(REFUSED|RESET)',
      '日本',
      'é',
      '.',
      'a{2,}',
      '\\s{2}',
      'status=[^2]',
    ];
    for (const p of patterns) {
      const js = new RegExp(p);
      const re2 = compileLogRegex(p, 256);
      expect([p, LINES.map((l) => re2.test(l))]).toEqual([p, LINES.map((l) => js.test(l))]);
    }
  });

  it('refuses what RE2 cannot express (backreferences, lookaround) with the engine reason', () => {
    for (const p of ['(a)\\1', '(?<w>a)\\k<w>', 'foo(?=bar)', 'foo(?!bar)', '(?<=a)b', '(?<!a)b']) {
      expect([p, refusal(p)]).toEqual([p, expect.stringMatching(/^The specified filter is not a supported regular expression: .+\.$/)]);
    }
    expect(refusal('(a)\\1')).toBe('The specified filter is not a supported regular expression: invalid escape sequence: `\\1`.');
    expect(refusal('foo(?=bar)')).toMatch(/invalid or unsupported Perl syntax: `\(\?=`/);
  });

  it('keeps the JavaScript syntax error text for a pattern that is not a regex at all', () => {
    expect(refusal('(oops')).toBe('The specified filter is not a valid regular expression: Invalid regular expression: /(oops/: Unterminated group');
  });

  it('refuses a pattern longer than the limit, naming the limit', () => {
    expect(refusal('x'.repeat(257))).toBe('The specified filter is longer than allowed (256 characters is the maximum).');
    expect(refusal('x'.repeat(11), 10)).toBe('The specified filter is longer than allowed (10 characters is the maximum).');
    expect(compileLogRegex('x'.repeat(256), 256).test('x'.repeat(300))).toBe(true);
  });

  it('refuses a pattern whose compiled program is too large (the NFA costs program × text)', () => {
    expect(refusal('(.*a){100}')).toBe(
      `The specified filter is too complex (it compiles to 502 steps, ${MAX_FILTER_PROGRAM_SIZE} is the maximum); simplify it.`,
    );
    expect(refusal('(a.{100}){3}$')).toMatch(/too complex/);
    expect(compileLogRegex('(.*a){20}', 256).test('a'.repeat(20))).toBe(true);
  });

  it('accepts the known catastrophic-backtracking patterns and answers on hostile input', () => {
    const hostile49 = 'a'.repeat(48) + '!';
    const tenKb = 'a'.repeat(10_000) + '!';
    const cases: [string, string, boolean][] = [
      ['(\\w|\\d)+$', hostile49, false],
      ['(a|aa)+$', hostile49, false],
      ['(a|aa)+$', tenKb, false],
      ['^(a+)+$', tenKb, false],
      ['(x+x+)+y', 'x'.repeat(10_240), false],
      ['(.*a){20}', tenKb, true],
      ['(.*a){20}', 'a'.repeat(19), false],
      ['(a|aa)+$', 'baaaa', true],
    ];
    for (const [p, text, expected] of cases) expect([p, compileLogRegex(p, 256).test(text)]).toEqual([p, expected]);
  });

  it('looks at the first MAX_FILTER_INPUT_CHARS characters of a message only (`$` matches at the cut)', () => {
    const re = compileLogRegex('needle', 256);
    expect(re.test('x'.repeat(MAX_FILTER_INPUT_CHARS - 6) + 'needle')).toBe(true);
    expect(re.test('x'.repeat(MAX_FILTER_INPUT_CHARS) + 'needle')).toBe(false);
    expect(compileLogRegex('a$', 256).test('a'.repeat(MAX_FILTER_INPUT_CHARS) + '!')).toBe(true);
  });
});
