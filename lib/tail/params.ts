/**
 * Validation of a log-session request body (docs/design.md §3 "Log sessions"). The two `lines`
 * messages are Akkeris's, verbatim (akkeris/controller-api lib/log-sessions.js).
 */
import { Unprocessable } from '../errors';
import { parseSince } from '../log/filter';
import { compileLogRegex } from '../log/regex';
import type { SessionClaims } from './token';

export const LINES_NOT_A_NUMBER = 'The specified lines was either not a number or less than 1.';
export const linesTooLarge = (max: number) => `The specified lines field was larger than allowed (${max} is the maximum).`;
/** Defaults of config.maxFilterLength (MAX_FILTER_LENGTH) and config.maxSinceSeconds (MAX_SINCE_SECONDS). */
export const DEFAULT_MAX_FILTER_LENGTH = 256;
export const DEFAULT_MAX_SINCE_SECONDS = 604_800;
/** A since this far ahead of the server's clock is the client's clock skew, not a mistake. */
export const SINCE_FUTURE_SKEW_SECONDS = 300;

export const SINCE_NOT_A_TIME = 'The specified since was not a valid time (use 30s, 10m, 2h, 1d or an RFC3339 date-time).';
export const sinceTooFarBack = (maxSeconds: number) =>
  `The specified since is further back than logs are kept (${describeSeconds(maxSeconds)} is the maximum).`;
export const SINCE_IN_FUTURE = 'The specified since is in the future.';

/** `7 days`, `36 hours`, `90 minutes`, `45 seconds`: the largest unit that divides it. */
function describeSeconds(s: number): string {
  for (const [unit, n] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ] as const) {
    if (s % n === 0) return `${s / n} ${unit}${s / n === 1 ? '' : 's'}`;
  }
  return `${s} seconds`;
}

export interface SessionRequest {
  lines?: unknown;
  tail?: unknown;
  dyno?: unknown;
  dyno_name?: unknown;
  type?: unknown;
  source?: unknown;
  since?: unknown;
  filter?: unknown;
}

/**
 * `lines`: an integer or a numeric string, 1..max. Missing is "not a number" (422), as in
 * Akkeris, where `!Number.isInteger(undefined)` rejects it; both CLIs always send it.
 */
export function parseLines(value: unknown, max: number): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value);
  else throw new Unprocessable(LINES_NOT_A_NUMBER);
  if (!Number.isInteger(n) || n < 1) throw new Unprocessable(LINES_NOT_A_NUMBER);
  if (n > max) throw new Unprocessable(linesTooLarge(max));
  return n;
}

export const TAIL_NOT_A_BOOLEAN = 'The specified tail must be a boolean (true or false).';

/**
 * `tail`: a boolean (Akkeris clients send one); missing or null is false. Old clients' strings
 * "true" and "false" are accepted, exactly those two; anything else (`"yes"`, `1`) is a 422.
 */
export function parseTail(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Unprocessable(TAIL_NOT_A_BOOLEAN);
}

/**
 * The longest `dyno`, `type` and `source` a session may carry (real ones are tens of characters;
 * an unbounded one made megabyte-sized logplex_urls). lib/tail/token checks it again.
 */
export const MAX_SELECTOR_LENGTH = 128;
/** C0 control characters and DEL: never in a dyno, type or source. */
export const CONTROL_CHAR_RE = /[\u0000-\u001f\u007f]/;

export const selectorTooLong = (field: string) => `The specified ${field} is longer than allowed (${MAX_SELECTOR_LENGTH} characters is the maximum).`;
export const selectorHasControl = (field: string) => `The specified ${field} contains control characters.`;

/** Optional string field: null/undefined/"" are absent; anything not a string is a 422. */
function optionalString(body: SessionRequest, field: keyof SessionRequest): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Unprocessable(`The specified ${field} must be a string.`);
  return v.trim() === '' ? undefined : v.trim();
}

/** `dyno`/`dyno_name`, `type`, `source`: an optional string of at most 128 characters, no control characters. */
function optionalSelector(body: SessionRequest, field: 'dyno' | 'dyno_name' | 'type' | 'source'): string | undefined {
  const v = optionalString(body, field);
  if (v === undefined) return undefined;
  if (CONTROL_CHAR_RE.test(v)) throw new Unprocessable(selectorHasControl(field));
  if (v.length > MAX_SELECTOR_LENGTH) throw new Unprocessable(selectorTooLong(field));
  return v;
}

/**
 * The absolute `since` (ms) a session carries. Kafka holds no line older than its retention, so a
 * since further back than `maxSeconds` would silently show less than asked: it is refused instead
 * (a relative value too large for a Date, like `999999999d`, is too far back as well).
 */
export function parseSinceClaim(value: string, now: Date, maxSeconds: number): number {
  const at = parseSince(value, now);
  if (!at) throw new Unprocessable(SINCE_NOT_A_TIME);
  const ms = at.getTime();
  if (Number.isNaN(ms) || ms < now.getTime() - maxSeconds * 1000) throw new Unprocessable(sinceTooFarBack(maxSeconds));
  if (ms > now.getTime() + SINCE_FUTURE_SKEW_SECONDS * 1000) throw new Unprocessable(SINCE_IN_FUTURE);
  return ms;
}

export function parseSessionRequest(
  raw: unknown,
  target: { kind: 'app' | 'site'; key: string },
  opts: { maxLines: number; maxFilterLength?: number; maxSinceSeconds?: number; now?: Date },
): SessionClaims {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Unprocessable(LINES_NOT_A_NUMBER);
  const body = raw as SessionRequest;
  const claims: SessionClaims = { kind: target.kind, key: target.key, lines: parseLines(body.lines, opts.maxLines), tail: parseTail(body.tail) };
  // Heroku sends `dyno`, Akkeris's API documents `dyno_name`; either filters by dyno or type.
  const dyno = optionalSelector(body, 'dyno') ?? optionalSelector(body, 'dyno_name');
  if (dyno !== undefined) claims.dyno = dyno;
  const type = optionalSelector(body, 'type');
  if (type !== undefined) claims.type = type;
  const source = optionalSelector(body, 'source');
  if (source !== undefined) claims.source = source;
  const since = optionalString(body, 'since');
  if (since !== undefined) claims.since = parseSinceClaim(since, opts.now ?? new Date(), opts.maxSinceSeconds ?? DEFAULT_MAX_SINCE_SECONDS);
  const filter = body.filter;
  if (filter !== undefined && filter !== null && filter !== '') {
    if (typeof filter !== 'string') throw new Unprocessable('The specified filter must be a string (a regular expression).');
    // Compiled here only to refuse what the stream could not run (too long, not RE2, too large a program).
    compileLogRegex(filter, opts.maxFilterLength ?? DEFAULT_MAX_FILTER_LENGTH);
    claims.filter = filter;
  }
  return claims;
}
