/**
 * Docker build noise removed from build results, as the Akkeris controller does
 * (controller-api lib/builds.js `strip_build_results`): it hides build arguments (which can hold
 * secrets), intermediate image ids, shell tracing and archive chatter from users.
 *
 * Akkeris runs its regexes over the whole log; logway applies the same patterns line by line so a
 * 100,000-line build can be streamed page by page. The results match, with one deliberate
 * difference: Akkeris blanks `Sending build context` lines after collapsing blank runs, which leaves
 * an empty string in its `lines`; logway drops those lines like every other blank one.
 */

/** Akkeris's patterns, each anchored to a whole line. */
export const BUILD_NOISE: readonly RegExp[] = [
  /^Step [0-9/]+ : ARG .*$/,
  /^ ---> .*$/,
  /^\+ .*$/,
  /^The push refers to a repository .*$/,
  /^tar: .*/,
  /^gzip: .*/,
  /^Sending build context to Docker daemon .*$/,
];

/** The same patterns as one alternation: one regex test per line instead of seven (100,000-line builds). */
const NOISE = new RegExp(BUILD_NOISE.map((re) => `(?:${re.source})`).join('|'));

export function isBuildNoise(line: string): boolean {
  return NOISE.test(line);
}

const BLANK = /^\s*$/;

/**
 * The lines of one stored build message that a user sees: split on CR/LF, noise removed, blank
 * lines dropped (Akkeris collapses every run of blank lines, `[\n\r]+\s*[\n\r]+` → `\n`).
 */
export function visibleBuildLines(message: string): string[] {
  // Nearly every message is one line: skip the split for those.
  if (!message.includes('\n') && !message.includes('\r')) {
    return BLANK.test(message) || NOISE.test(message) ? [] : [message];
  }
  const out: string[] = [];
  for (const line of message.split(/\r\n|\r|\n/)) {
    if (BLANK.test(line) || NOISE.test(line)) continue;
    out.push(line);
  }
  return out;
}
