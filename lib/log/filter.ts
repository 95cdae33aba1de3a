/** Log-session filters (docs/design.md §3 "Log sessions"): dyno, type, source, since, regex. */
import type { LogLine } from './line';
import type { LogRegex } from './regex';
import { parseRfc3339OrDate } from './time';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `30s`, `10m`, `2h`, `1d` (that long before `now`), or an RFC3339 date-time / ISO 8601
 * calendar date (`2018-03-24`, UTC midnight). Null when it is none of these; an Invalid Date when
 * a relative value reaches before the range of Date (`999999999d`).
 */
export function parseSince(value: string, now: Date): Date | null {
  const v = value.trim();
  const rel = /^(\d{1,9})([smhd])$/.exec(v);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]]);
  return parseRfc3339OrDate(v);
}

export interface FilterOptions {
  /** Exact dyno (`web.1562910588-cg82f`) or a process type matching all its dynos (`web`). */
  dyno?: string;
  /** Exact process type. */
  type?: string;
  /** `app`, a platform source (`akkeris/router`), its short form (`router`), or `akkeris` for all platform sources. */
  source?: string;
  /** Lines at or after this time. */
  since?: Date;
  /** Tested against the message only (not the rendered line), like Heroku's filters; see compileLogRegex. */
  regex?: LogRegex;
}

/** `router` for `akkeris/router`; the source itself when it has no `/`. */
function shortSource(source: string): string {
  const slash = source.indexOf('/');
  return slash < 0 ? source : source.slice(slash + 1);
}

/**
 * Platform lines have no dyno; for dyno filtering they go by their short source, so
 * `dyno=router` finds router lines as `heroku logs --dyno router` does on Heroku.
 */
function effectiveDyno(line: LogLine): string {
  if (line.dyno !== '') return line.dyno;
  return line.source.includes('/') ? shortSource(line.source) : '';
}

function matchesSource(line: LogLine, wanted: string): boolean {
  if (line.source === wanted) return true;
  const slash = line.source.indexOf('/');
  if (slash < 0) return false;
  return line.source.slice(slash + 1) === wanted || line.source.slice(0, slash) === wanted;
}

/** A compiled session filter; `usesRegex` marks one whose cost the session must watch (lib/tail/filter-budget). */
export type LineFilter = ((line: LogLine) => boolean) & { readonly usesRegex?: boolean };

/** A predicate that is true when a line passes every given filter (all are ANDed; none = all lines). */
export function compileFilter(opts: FilterOptions): LineFilter {
  const tests: Array<(line: LogLine) => boolean> = [];
  const { dyno, type, source, since, regex } = opts;
  if (dyno !== undefined && dyno !== '') {
    const prefix = `${dyno}.`;
    tests.push((l) => {
      const d = effectiveDyno(l);
      return d === dyno || d.startsWith(prefix);
    });
  }
  if (type !== undefined && type !== '') tests.push((l) => l.processType === type);
  if (source !== undefined && source !== '') tests.push((l) => matchesSource(l, source));
  if (since !== undefined) {
    const sinceMs = since.getTime();
    tests.push((l) => l.time.getTime() >= sinceMs);
  }
  if (regex !== undefined) tests.push((l) => regex.test(l.message));
  if (tests.length === 0) return () => true;
  const all = (line: LogLine) => tests.every((t) => t(line));
  return regex !== undefined ? Object.assign(all, { usesRegex: true }) : all;
}
