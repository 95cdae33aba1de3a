/** InfluxQL for the metrics API, and the shaping of InfluxDB's answer into what `aka metrics` draws.
 *
 * Per process type and bucket (GROUP BY time(resolution), aligned to the epoch as InfluxDB aligns them):
 * - gauges: the mean of each instance over the bucket, then the mean (or the 90th percentile) across instances;
 * - counters: each instance's non-negative per-second rate, NON_NEGATIVE_DERIVATIVE(MEAN(value), 1s) between
 *   consecutive buckets (a counter reset gives no negative spike, just a missing point), then the mean (or
 *   90th percentile) across instances. The inner query starts one bucket early so the first bucket has a rate.
 * The across-instances step runs as an InfluxQL subquery (`aggregation: influx`) or here (`node`, the default:
 * InfluxDB 1.6 subqueries are several times slower). `fill(none)` leaves empty buckets out.
 *
 * Only the app and the times are user-derived, and they travel as bound parameters ($app, $from, $to);
 * measurement names come from the fixed catalog and the resolution is an integer, so no input can change a
 * statement. */
import type { Influx, InfluxStatementResult } from '../influx';
import { COUNTERS, GAUGES, METRICS, MetricKind } from './catalog';
import type { Stat } from './params';

/** process type → metric → bucket start (epoch seconds, as a string key) → value */
export type MetricsResult = Record<string, Record<string, Record<string, number>>>;

/** `kind`: two statements (all gauges, all counters) over a measurement regex; `metric`: one statement per metric. */
export type QueryPlan = 'kind' | 'metric';
/** `batch`: all statements in one HTTP request; `parallel`: one request per statement, concurrently. */
export type QueryTransport = 'batch' | 'parallel';

const SAFE_NAME = /^[a-z][a-z0-9_]*$/;

function from(measurements: readonly string[]): string {
  for (const m of measurements) if (!SAFE_NAME.test(m)) throw new Error(`unsafe measurement name ${m}`);
  return measurements.length === 1 ? `"${measurements[0]}"` : `/^(${measurements.join('|')})$/`;
}

function resolutionLiteral(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new Error(`bad resolution ${seconds}`);
  return `${seconds}s`;
}

/** One statement for a set of measurements of one kind. Parameters: $app, $from, $to, and for counters $before
 * (one bucket before $from). */
export function buildSeriesStatement(measurements: readonly string[], kind: MetricKind, stat: Stat, resolution: number): string {
  const res = resolutionLiteral(resolution);
  const inner = buildInstanceStatement(measurements, kind, resolution, 'v');
  const across = stat === 'p90' ? 'PERCENTILE(v, 90)' : 'MEAN(v)';
  // InfluxDB narrows a subquery's time range to the outer one, so for counters the outer range starts one bucket
  // early too; the derivative emits nothing for that first bucket, so no point before $from comes out.
  const start = kind === 'counter' ? '$before' : '$from';
  return `SELECT ${across} AS value FROM (${inner}) WHERE time >= ${start} AND time < $to GROUP BY time(${res}), process_type fill(none)`;
}

/** The per-instance half alone: InfluxDB returns one series per metric, process type and instance, and the
 * mean or 90th percentile across instances is taken here (`acrossInstances`). Same numbers as the subquery,
 * several times faster on InfluxDB 1.6, whose subqueries are slow (BENCHMARKS.md). */
export function buildInstanceStatement(measurements: readonly string[], kind: MetricKind, resolution: number, alias = 'value'): string {
  const res = resolutionLiteral(resolution);
  return kind === 'counter'
    ? `SELECT NON_NEGATIVE_DERIVATIVE(MEAN(value), 1s) AS ${alias} FROM ${from(measurements)} ` +
        `WHERE app = $app AND time >= $before AND time < $to GROUP BY time(${res}), process_type, instance fill(none)`
    : `SELECT MEAN(value) AS ${alias} FROM ${from(measurements)} ` +
        `WHERE app = $app AND time >= $from AND time < $to GROUP BY time(${res}), process_type, instance fill(none)`;
}

/** Where the across-instances step runs: `node` (per-instance series from InfluxDB, combined here) or `influx`
 * (an InfluxQL subquery). */
export type Aggregation = 'node' | 'influx';

export function buildSeriesStatements(plan: QueryPlan, stat: Stat, resolution: number, aggregation: Aggregation = 'influx'): string[] {
  const one = (ms: readonly string[], kind: MetricKind) =>
    aggregation === 'node' ? buildInstanceStatement(ms, kind, resolution) : buildSeriesStatement(ms, kind, stat, resolution);
  if (plan === 'kind') return [one(GAUGES, 'gauge'), one(COUNTERS, 'counter')];
  return METRICS.map((m) => one([m.name], m.kind));
}

const isoSeconds = (s: number) => new Date(s * 1000).toISOString();

export function seriesParams(app: string, fromS: number, toS: number, resolution: number): Record<string, string> {
  return { app, from: isoSeconds(fromS), to: isoSeconds(toS), before: isoSeconds(Math.max(0, fromS - resolution)) };
}

/** Collectors that leave out `process_type` are read as `web`, the Akkeris default process type. */
const processTypeOf = (tags?: Record<string, string>) => tags?.process_type || 'web';

/** InfluxDB results → `{"web":{"memory_rss":{"1471314000":123.4}}}`; null values and empty series left out. */
export function shapeSeries(results: InfluxStatementResult[]): MetricsResult {
  const out: MetricsResult = {};
  for (const r of results) {
    for (const s of r.series ?? []) {
      const t = s.columns.indexOf('time');
      const v = s.columns.indexOf('value');
      if (t < 0 || v < 0) continue;
      let target: Record<string, number> | undefined;
      for (const row of s.values) {
        const value = row[v];
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        if (!target) {
          const pt = (out[processTypeOf(s.tags)] ??= {});
          target = pt[s.name] ??= {};
        }
        target[String(row[t])] = value;
      }
    }
  }
  return ordered(out);
}

const METRIC_ORDER = new Map(METRICS.map((m, i) => [m.name, i]));

/** Process types alphabetically, metrics in catalog order (bucket keys order themselves: they are integer-like). */
function ordered(r: MetricsResult): MetricsResult {
  const out: MetricsResult = {};
  for (const pt of Object.keys(r).sort()) {
    out[pt] = {};
    const names = Object.keys(r[pt]).sort((a, b) => (METRIC_ORDER.get(a) ?? 99) - (METRIC_ORDER.get(b) ?? 99) || a.localeCompare(b));
    for (const n of names) out[pt][n] = r[pt][n];
  }
  return out;
}

/** InfluxDB's PERCENTILE: nearest rank, the value at index floor(n·p/100 + 0.5) − 1 of the sorted values. */
export function percentile(values: number[], p: number): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.floor((sorted.length * p) / 100 + 0.5) - 1;
  return i < 0 || i >= sorted.length ? undefined : sorted[i];
}

/** Per-instance series (one per metric, process type, instance) → the mean or 90th percentile across instances
 * per bucket, shaped like `shapeSeries`; buckets before `from` dropped. */
export function acrossInstances(results: InfluxStatementResult[], stat: Stat, fromS: number): MetricsResult {
  const groups = new Map<string, Map<string, Map<number, number[]>>>(); // pt → metric → bucket → values
  for (const r of results) {
    for (const s of r.series ?? []) {
      const t = s.columns.indexOf('time');
      const v = s.columns.indexOf('value');
      if (t < 0 || v < 0) continue;
      const pt = processTypeOf(s.tags);
      let metrics = groups.get(pt);
      if (!metrics) groups.set(pt, (metrics = new Map()));
      let buckets = metrics.get(s.name);
      if (!buckets) metrics.set(s.name, (buckets = new Map()));
      for (const row of s.values) {
        const ts = row[t] as number;
        const value = row[v];
        if (typeof value !== 'number' || !Number.isFinite(value) || ts < fromS) continue;
        const list = buckets.get(ts);
        if (list) list.push(value);
        else buckets.set(ts, [value]);
      }
    }
  }
  const out: MetricsResult = {};
  for (const [pt, metrics] of groups) {
    for (const [name, buckets] of metrics) {
      if (buckets.size === 0) continue;
      const points: Record<string, number> = {};
      for (const [ts, values] of buckets) {
        const value = stat === 'p90' ? percentile(values, 90)! : values.reduce((a, b) => a + b, 0) / values.length;
        points[String(ts)] = value;
      }
      (out[pt] ??= {})[name] = points;
    }
  }
  return ordered(out);
}

/** Splits at a bucket boundary: [before `at`, from `at` on]. */
export function splitAt(r: MetricsResult, at: number): [MetricsResult, MetricsResult] {
  const before: MetricsResult = {};
  const after: MetricsResult = {};
  for (const [pt, metrics] of Object.entries(r)) {
    for (const [name, points] of Object.entries(metrics)) {
      for (const [ts, value] of Object.entries(points)) {
        const side = Number(ts) < at ? before : after;
        ((side[pt] ??= {})[name] ??= {})[ts] = value;
      }
    }
  }
  return [before, after];
}

/** Union of disjoint ranges (the cached closed buckets and the freshly read open ones). */
export function mergeResults(...parts: (MetricsResult | undefined)[]): MetricsResult {
  const out: MetricsResult = {};
  for (const part of parts) {
    if (!part) continue;
    for (const [pt, metrics] of Object.entries(part)) {
      for (const [name, points] of Object.entries(metrics)) {
        Object.assign(((out[pt] ??= {})[name] ??= {}), points);
      }
    }
  }
  return ordered(out);
}

export interface SeriesQueryOptions {
  plan: QueryPlan;
  transport: QueryTransport;
  aggregation: Aggregation;
}

/** Reads [fromS, toS) for one app: as many HTTP round trips as the plan and transport say (1, 2 or 13). */
export async function querySeries(
  influx: Influx,
  app: string,
  range: { from: number; to: number; resolution: number; stat: Stat },
  opts: SeriesQueryOptions,
): Promise<MetricsResult> {
  const statements = buildSeriesStatements(opts.plan, range.stat, range.resolution, opts.aggregation);
  const params = seriesParams(app, range.from, range.to, range.resolution);
  const results =
    opts.transport === 'batch' ? await influx.query(statements.join('; '), params) : (await Promise.all(statements.map((s) => influx.query(s, params)))).flat();
  if (opts.aggregation === 'node') return acrossInstances(results, range.stat, range.from);
  const shaped = shapeSeries(results);
  return range.from > 0 ? splitAt(shaped, range.from)[1] : shaped;
}

// ---- snapshot: GET /apps/:app/metrics/current ----

export interface SnapshotValue {
  /** When the latest sample was taken, epoch seconds. */
  time: number;
  value: number;
  /** Counters only: per-second rate between the last two samples (left out after a reset or with one sample). */
  rate?: number;
}

/** process type → instance → metric → latest sample */
export type Snapshot = Record<string, Record<string, Record<string, SnapshotValue>>>;

/** The last two samples of every metric, per process type and instance, within the look-back window
 * (LIMIT applies per series). Parameters: $app, $since, $now. */
export function buildSnapshotStatement(): string {
  return (
    `SELECT value FROM ${from(METRICS.map((m) => m.name))} WHERE app = $app AND time >= $since AND time <= $now ` +
    `GROUP BY process_type, instance ORDER BY time DESC LIMIT 2`
  );
}

/** Expects epoch=ms results. */
export function shapeSnapshot(results: InfluxStatementResult[], kindOf: (name: string) => MetricKind | undefined): Snapshot {
  const out: Snapshot = {};
  for (const r of results) {
    for (const s of r.series ?? []) {
      const kind = kindOf(s.name);
      if (!kind) continue;
      const t = s.columns.indexOf('time');
      const v = s.columns.indexOf('value');
      const rows = s.values.filter((row) => typeof row[v] === 'number' && typeof row[t] === 'number');
      if (rows.length === 0) continue;
      const latest = rows[0];
      const previous = rows[1] as unknown[] | undefined;
      const entry: SnapshotValue = { time: (latest[t] as number) / 1000, value: latest[v] as number };
      if (kind === 'counter' && previous) {
        const dt = ((latest[t] as number) - (previous[t] as number)) / 1000;
        const dv = (latest[v] as number) - (previous[v] as number);
        if (dt > 0 && dv >= 0) entry.rate = dv / dt;
      }
      const instance = s.tags?.instance || 'unknown';
      ((out[processTypeOf(s.tags)] ??= {})[instance] ??= {})[s.name] = entry;
    }
  }
  const sorted: Snapshot = {};
  for (const pt of Object.keys(out).sort()) {
    sorted[pt] = {};
    for (const inst of Object.keys(out[pt]).sort()) {
      sorted[pt][inst] = {};
      const names = Object.keys(out[pt][inst]).sort((a, b) => (METRIC_ORDER.get(a) ?? 99) - (METRIC_ORDER.get(b) ?? 99));
      for (const n of names) sorted[pt][inst][n] = out[pt][inst][n];
    }
  }
  return sorted;
}
