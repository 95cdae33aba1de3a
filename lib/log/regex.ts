/**
 * Log-session filters in linear time (issue 9 item 3). A tenant's `filter` runs on the hub's one
 * JS thread for every line of its app, so it is compiled with re2js (a JS port of RE2: automata, no
 * backtracking) instead of V8's backtracking RegExp, where `(a|aa)+$` on a 49-character line never
 * finished. RE2 cannot express backreferences or lookaround: those are refused at creation.
 *
 * Linear is O(program × text): both factors are bounded, so one line costs at most ~0.1 s of one
 * session's matching even when RE2's DFA gives up and its NFA runs (bench/filter-regex.ts).
 */
import { RE2JS } from 're2js';
import { Unprocessable } from '../errors';

/**
 * RE2 instructions a filter may compile to (`status=5\d\d` is 12, `(.*a){20}` 102, a 256-character
 * literal 258, `(.*a){100}` 502): beyond it RE2's lazy DFA stops fitting and its NFA runs at
 * program × text.
 */
export const MAX_FILTER_PROGRAM_SIZE = 300;
/** A filter sees the first this-many characters of a message (RE2's NFA costs program × text per line). */
export const MAX_FILTER_INPUT_CHARS = 10_240;

export const filterTooLong = (max: number) => `The specified filter is longer than allowed (${max} characters is the maximum).`;
export const filterNotSupported = (reason: string) => `The specified filter is not a supported regular expression: ${reason}.`;
export const filterTooComplex = (size: number) =>
  `The specified filter is too complex (it compiles to ${size} steps, ${MAX_FILTER_PROGRAM_SIZE} is the maximum); simplify it.`;

/** A compiled log filter: true when the pattern occurs anywhere in the text (like RegExp.prototype.test without flags). */
export interface LogRegex {
  readonly source: string;
  test(text: string): boolean;
}

/** re2js's messages start with "error parsing regexp: " (Go's wording); the rest names the construct. */
function engineReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error parsing regexp:\s*/, '').replace(/\.$/, '');
}

/**
 * Compiles a user-supplied filter, or throws Unprocessable (422) with the reason: longer than
 * `maxLength`, not valid JavaScript regex syntax (the text logway always answered), not expressible
 * in RE2 (backreferences, lookaround, `\u` escapes...), or compiling to too large a program.
 */
export function compileLogRegex(pattern: string, maxLength: number): LogRegex {
  if (pattern.length > maxLength) throw new Unprocessable(filterTooLong(maxLength));
  try {
    // Compiled only, never executed: V8 parses in linear time; its message is the one logway always gave.
    new RegExp(pattern);
  } catch (e) {
    throw new Unprocessable(`The specified filter is not a valid regular expression: ${(e as Error).message}`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new Unprocessable(filterNotSupported(engineReason(e)));
  }
  const size = re.programSize();
  if (size > MAX_FILTER_PROGRAM_SIZE) throw new Unprocessable(filterTooComplex(size));
  return {
    source: pattern,
    test: (text) => re.test(text.length > MAX_FILTER_INPUT_CHARS ? text.slice(0, MAX_FILTER_INPUT_CHARS) : text),
  };
}

/**
 * Filter-time budgets (the accepted worst case above still costs ~0.1–0.2 s per 10 KB line):
 * history and resume filtering yield to the event loop after FILTER_SLICE_MS of work and stop
 * after FILTER_HISTORY_BUDGET_MS in all (serving the newest matches found); a live session whose
 * filter takes more than FILTER_LIVE_BUDGET_MS within any FILTER_LIVE_WINDOW_MS is ended.
 */
export const FILTER_SLICE_MS = 5;
export const FILTER_HISTORY_BUDGET_MS = 1_000;
export const FILTER_LIVE_BUDGET_MS = 200;
export const FILTER_LIVE_WINDOW_MS = 1_000;
