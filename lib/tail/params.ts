/**
 * Validation of a log-session request body (DESIGN.md §3 "Log sessions"). The two `lines`
 * messages are Akkeris's, verbatim (akkeris/controller-api lib/log-sessions.js).
 */
import safeRegex from 'safe-regex2';
import { Unprocessable } from '../errors';
import { parseSince } from '../log/filter';
import type { SessionClaims } from './token';

export const LINES_NOT_A_NUMBER = 'The specified lines was either not a number or less than 1.';
export const linesTooLarge = (max: number) => `The specified lines field was larger than allowed (${max} is the maximum).`;
/** A regex runs on the hub for every line of the app: keep it small. */
export const MAX_FILTER_LENGTH = 512;

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

/** Akkeris's `tail ? true : false`, except that the strings "false" and "0" are false. */
export function parseTail(value: unknown): boolean {
  if (typeof value === 'string') return !['', 'false', '0', 'no'].includes(value.trim().toLowerCase());
  return Boolean(value);
}

/** Optional string field: null/undefined/"" are absent; anything not a string is a 422. */
function optionalString(body: SessionRequest, field: keyof SessionRequest): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Unprocessable(`The specified ${field} must be a string.`);
  return v.trim() === '' ? undefined : v.trim();
}

export function parseSessionRequest(
  raw: unknown,
  target: { kind: 'app' | 'site'; key: string },
  opts: { maxLines: number; now?: Date },
): SessionClaims {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Unprocessable(LINES_NOT_A_NUMBER);
  const body = raw as SessionRequest;
  const claims: SessionClaims = { kind: target.kind, key: target.key, lines: parseLines(body.lines, opts.maxLines), tail: parseTail(body.tail) };
  // Heroku sends `dyno`, Akkeris's API documents `dyno_name`; either filters by dyno or type.
  const dyno = optionalString(body, 'dyno') ?? optionalString(body, 'dyno_name');
  if (dyno !== undefined) claims.dyno = dyno;
  const type = optionalString(body, 'type');
  if (type !== undefined) claims.type = type;
  const source = optionalString(body, 'source');
  if (source !== undefined) claims.source = source;
  const since = optionalString(body, 'since');
  if (since !== undefined) {
    const at = parseSince(since, opts.now ?? new Date());
    if (!at) throw new Unprocessable('The specified since was not a valid time (use 30s, 10m, 2h, 1d or an RFC3339 date-time).');
    claims.since = at.getTime();
  }
  const filter = body.filter;
  if (filter !== undefined && filter !== null && filter !== '') {
    if (typeof filter !== 'string') throw new Unprocessable('The specified filter must be a string (a regular expression).');
    if (filter.length > MAX_FILTER_LENGTH) throw new Unprocessable(`The specified filter is longer than ${MAX_FILTER_LENGTH} characters.`);
    try {
      new RegExp(filter);
    } catch (e) {
      throw new Unprocessable(`The specified filter is not a valid regular expression: ${(e as Error).message}`);
    }
    // The filter runs on the node's one hub thread for every line: a pattern with nested quantifiers
    // (catastrophic backtracking, e.g. `(a+)+$`) could stall every session of the node.
    if (!safeRegex(filter)) {
      throw new Unprocessable('The specified filter has nested repetition (like (a+)+) that could take exponential time; simplify it.');
    }
    claims.filter = filter;
  }
  return claims;
}
