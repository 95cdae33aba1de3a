/**
 * Cost of one log-session filter test per line (issue 9 item 3): the known catastrophic-backtracking
 * patterns and some everyday ones through compileLogRegex (re2js), against a 10 KB line and a
 * typical ~100-byte router line, plus RE2's worst case (a pattern whose lazy DFA does not fit, so
 * its NFA runs) and, for the everyday patterns only, V8's RegExp for comparison. The hostile
 * patterns never run on V8 here: on the 49-character line of the issue they take seconds to hours.
 * `npx tsx bench/filter-regex.ts` (knob: ROUNDS, MS per round).
 */
import { compileLogRegex, MAX_FILTER_INPUT_CHARS, MAX_FILTER_PROGRAM_SIZE } from '../lib/log/regex';
import { scriptArgs } from './lib/setup';

scriptArgs({
  usage: 'npx tsx bench/filter-regex.ts',
  about:
    'Cost of one log-session filter test per line: hostile and everyday patterns through compileLogRegex (re2js) on a 10 KB ' +
    "and a ~100-byte line, RE2's worst case, and V8's RegExp beside the everyday ones. CPU only: no stack.",
  env: { ROUNDS: 'rounds per figure, the median is printed (5)', MS: 'milliseconds per round (200)' },
  prints: "the settings, then a Markdown table: per pattern and line, re2js's time per line and lines/s, and V8's time per line.",
});

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MS = Number(process.env.MS ?? 200);

const LINE_100 = 'at=info method=GET path="/api/v1/users" host=api.example.com status=200 bytes=512 service=12ms';
const LINE_49 = 'a'.repeat(48) + '!';
const LINE_10K = 'a'.repeat(10_239) + '!';
/** Random a/b text: RE2's DFA for `a.{N}$` needs a new state per byte here and gives up. */
function randomAb(n: number): string {
  let s = 1;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (s * 1_103_515_245 + 12_345) & 0x7fffffff;
    out += (s >> 16) & 1 ? 'a' : 'b';
  }
  return out;
}
const AB_10K = randomAb(MAX_FILTER_INPUT_CHARS);

const HOSTILE = ['(\\w|\\d)+$', '(a|aa)+$', '^(a+)+$', '(x+x+)+y', '(.*a){20}'];
const NORMAL = ['error|timeout', 'status=5\\d\\d', 'GET /api', 'code=H\\d+'];
/** Near the program-size cap and DFA-hostile: the slowest a filter that is accepted can be. */
const WORST = ['a.{150}$', 'a.{290}$'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ns per call over ROUNDS rounds of about MS milliseconds each (at least one call). */
function nsPerOp(fn: () => boolean): number {
  fn();
  const runs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    do {
      fn();
      n++;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < BigInt(MS) * 1_000_000n);
    runs.push(Number(elapsed) / n);
  }
  return median(runs);
}

function fmt(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

const rate = (ns: number) => `${Math.round(1e9 / ns).toLocaleString('en-US')} lines/s`;

function row(cells: string[]): void {
  console.log(`| ${cells.join(' | ')} |`);
}

console.log(
  `node ${process.version}, re2js via compileLogRegex; MAX_FILTER_PROGRAM_SIZE ${MAX_FILTER_PROGRAM_SIZE}, MAX_FILTER_INPUT_CHARS ${MAX_FILTER_INPUT_CHARS}\n`,
);
row(['pattern', 'kind', 'line', 're2js per line', 're2js lines/s', 'V8 RegExp per line']);
row(['---', '---', '---', '---:', '---:', '---:']);
const cases: [string, string, [string, string][]][] = [
  ...HOSTILE.map((p): [string, string, [string, string][]] => [
    p,
    'hostile',
    [
      ['49 B (issue)', LINE_49],
      ['100 B', LINE_100],
      ['10 KB', LINE_10K],
    ],
  ]),
  ...NORMAL.map((p): [string, string, [string, string][]] => [
    p,
    'normal',
    [
      ['100 B', LINE_100],
      ['10 KB', LINE_10K],
    ],
  ]),
  ...WORST.map((p): [string, string, [string, string][]] => [
    p,
    'RE2 worst (NFA)',
    [
      ['100 B', LINE_100],
      ['10 KB a/b', AB_10K],
    ],
  ]),
];
for (const [pattern, kind, lines] of cases) {
  const re = compileLogRegex(pattern, 256);
  for (const [name, text] of lines) {
    const ns = nsPerOp(() => re.test(text));
    let v8 = 'not run';
    if (kind === 'normal') {
      const js = new RegExp(pattern);
      v8 = fmt(nsPerOp(() => js.test(text)));
    }
    row([`\`${pattern.replace(/\|/g, '\\|')}\``, kind, name, fmt(ns), rate(ns), v8]);
  }
}
