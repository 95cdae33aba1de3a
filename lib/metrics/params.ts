/** Validation of GET /apps/:app/metrics parameters (docs/design.md §3 "Metrics"): every rejection is a 422 whose
 * message names the parameter and says why. Nothing here reaches InfluxDB as text: resolution becomes an
 * integer number of seconds, dates become integer epoch seconds, stat one of two constants. */
import { Unprocessable } from '../errors';

export type Stat = 'mean' | 'p90';

export interface MetricsRange {
  /** Bucket width in seconds (≥ 10). */
  resolution: number;
  /** First bucket start, epoch seconds (the requested `from` rounded down to a bucket boundary). */
  from: number;
  /** End of the last bucket, epoch seconds (the requested `to` rounded up to a bucket boundary). */
  to: number;
  stat: Stat;
}

export const MIN_RESOLUTION_SECONDS = 10;
export const MAX_RESOLUTION_SECONDS = 366 * 86400;
export const MAX_BUCKETS = 1000;
export const DEFAULT_RESOLUTION = '30m';
export const DEFAULT_SPAN_SECONDS = 7 * 86400;
/** `to` may lie a little ahead (clock skew, "until the end of today"), not further. */
export const MAX_FUTURE_SECONDS = 86400;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

type QueryValue = string | string[] | undefined | unknown;

function single(name: string, v: QueryValue): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Unprocessable(`The specified ${name} was given more than once or is not a plain value.`);
  return v.trim();
}

const show = (s: string) => JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}...` : s);

/** `<n>(s|m|h|d)` → seconds, at least 10 s (so `1m 5m 10m 15m 20m 30m 1h 6h 12h 1d` and the like). */
export function parseResolution(raw: string): number {
  const m = /^(\d{1,9})([smhd])$/.exec(raw);
  if (!m) {
    throw new Unprocessable(`The specified resolution ${show(raw)} is not valid: use a whole number followed by s, m, h or d (e.g. 10m, 1h).`);
  }
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2]];
  if (seconds < MIN_RESOLUTION_SECONDS) {
    throw new Unprocessable(`The specified resolution ${show(raw)} is too small: the minimum is ${MIN_RESOLUTION_SECONDS}s.`);
  }
  if (seconds > MAX_RESOLUTION_SECONDS) {
    throw new Unprocessable(`The specified resolution ${show(raw)} is too large: the maximum is 366d.`);
  }
  return seconds;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** ISO 8601 (`2016-08-16`, `2016-08-16T02:21:10Z`, `...10.123+02:00`; no offset means UTC) or epoch seconds
 * (`1471314070`, `1471314070.5`) → epoch seconds (fractions kept). Impossible dates (Feb 30) are rejected,
 * not rolled over as `Date.parse` would. */
export function parseTime(name: string, raw: string): number {
  const bad = () => new Unprocessable(`The specified ${name} ${show(raw)} is not a valid date: use ISO 8601 (e.g. 2016-08-16T02:21:10Z) or epoch seconds.`);
  let seconds: number;
  if (/^\d{1,11}(\.\d{1,9})?$/.test(raw)) {
    seconds = Number(raw);
  } else {
    const m = ISO.exec(raw);
    if (!m) throw bad();
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
    const Y = Number(y),
      M = Number(mo),
      D = Number(d),
      H = Number(h),
      MI = Number(mi),
      S = Number(s);
    if (M < 1 || M > 12 || D < 1 || H > 23 || MI > 59 || S > 59) throw bad();
    const ms = Date.UTC(Y, M - 1, D, H, MI, S);
    const check = new Date(ms);
    if (check.getUTCFullYear() !== Y || check.getUTCMonth() !== M - 1 || check.getUTCDate() !== D) throw bad();
    let offset = 0;
    if (zone && zone.toUpperCase() !== 'Z') {
      const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
      const zh = Number(z[2]),
        zm = Number(z[3] ?? '0');
      if (zh > 23 || zm > 59) throw bad();
      offset = (z[1] === '-' ? -1 : 1) * (zh * 3600 + zm * 60);
    }
    seconds = ms / 1000 - offset + (frac ? Number(`0.${frac}`) : 0);
  }
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Unprocessable(`The specified ${name} ${show(raw)} is before 1970-01-01T00:00:00Z.`);
  }
  return seconds;
}

const iso = (s: number) => new Date(Math.round(s * 1000)).toISOString().replace('.000Z', 'Z');

/** The query string of GET /apps/:app/metrics → a bucket-aligned range. `now` in epoch seconds.
 * Decision (docs/design.md is silent): without `from`, the default week is shortened to the last 1,000 buckets,
 * so `aka metrics -r 10m` (which sends only the resolution) still answers; an explicit range over 1,000 is a 422. */
export function parseMetricsQuery(query: Record<string, unknown>, now: number): MetricsRange {
  const rawRes = single('resolution', query.resolution);
  const rawFrom = single('from', query.from);
  const rawTo = single('to', query.to);
  const rawStat = single('stat', query.stat);

  const resolution = parseResolution(rawRes === undefined || rawRes === '' ? DEFAULT_RESOLUTION : rawRes);
  let stat: Stat = 'mean';
  if (rawStat !== undefined && rawStat !== '') {
    if (rawStat !== 'mean' && rawStat !== 'p90') throw new Unprocessable(`The specified stat ${show(rawStat)} is not valid: use mean or p90.`);
    stat = rawStat;
  }
  const to = rawTo === undefined || rawTo === '' ? now : parseTime('to', rawTo);
  if (to > now + MAX_FUTURE_SECONDS) {
    throw new Unprocessable(`The specified to (${iso(to)}) is too far in the future: at most 1 day after now.`);
  }
  let alignedTo = Math.ceil(to / resolution) * resolution;
  let alignedFrom: number;
  if (rawFrom !== undefined && rawFrom !== '') {
    const from = parseTime('from', rawFrom);
    if (from >= to) throw new Unprocessable(`The specified from (${iso(from)}) must be before to (${iso(to)}).`);
    alignedFrom = Math.floor(from / resolution) * resolution;
  } else {
    const weekBefore = Math.floor((to - DEFAULT_SPAN_SECONDS) / resolution) * resolution;
    alignedFrom = Math.max(weekBefore, alignedTo - MAX_BUCKETS * resolution, 0);
  }
  if (alignedTo === alignedFrom) alignedTo += resolution; // to = 0 exactly: one bucket
  const buckets = (alignedTo - alignedFrom) / resolution;
  if (buckets > MAX_BUCKETS) {
    throw new Unprocessable(
      `The specified from and to span ${buckets} buckets at resolution ${rawRes || DEFAULT_RESOLUTION}; ` +
        `at most ${MAX_BUCKETS} are allowed: use a coarser resolution or a shorter range.`,
    );
  }
  return { resolution, from: alignedFrom, to: alignedTo, stat };
}
