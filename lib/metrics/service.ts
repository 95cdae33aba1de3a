/** The metrics API's work, between the route and InfluxDB: cached, bucket-aligned series and the snapshot. */
import crypto from 'node:crypto';
import type { Histogram, Registry } from 'prom-client';
import { histogram } from '../prom';
import type { Influx } from '../influx';
import { InfluxError } from '../influx';
import { Unavailable } from '../errors';
import { METRIC_KIND } from './catalog';
import { MetricsCache, MetricsCacheOptions } from './cache';
import type { MetricsRange } from './params';
import { Aggregation, buildSnapshotStatement, mergeResults, MetricsResult, QueryPlan, QueryTransport, querySeries, shapeSnapshot, splitAt } from './query';

export interface MetricsServiceOptions extends MetricsCacheOptions {
  /** Buckets that ended less than this many seconds ago still count as open (late samples may land there). */
  settleSeconds: number;
  plan: QueryPlan;
  transport: QueryTransport;
  /** Where the mean/p90 across instances is taken (see lib/metrics/query.ts). */
  aggregation: Aggregation;
  /** false: every request reads InfluxDB (benchmarks' "uncached"). */
  cache: boolean;
  /** How far back /metrics/current looks for an instance's latest sample. */
  snapshotWindowSeconds: number;
  snapshotTtlSeconds: number;
  /** Epoch milliseconds; tests move the clock. */
  now: () => number;
  /** When the current InfluxDB outage began (the dependency tracker), undefined while it is up. */
  influxDownSince?: () => Date | undefined;
}

/** A finished answer: UTF-8 JSON and its (strong) ETag, computed once per cache fill rather than per request. */
export interface MetricsBody {
  json: Buffer;
  etag: string;
  /** A cached answer served past its TTL because InfluxDB is down (the route adds `Warning: 110`). */
  stale?: boolean;
}

export function toBody(value: unknown): MetricsBody {
  const json = Buffer.from(JSON.stringify(value));
  return { json, etag: `"${crypto.createHash('sha1').update(json).digest('base64url')}"` };
}

export interface MetricsService {
  /** `{"<process type>":{"<metric>":{"<bucket start>":value}}}` */
  series(appKey: string, range: MetricsRange): Promise<MetricsBody>;
  /** `{"<process type>":{"<instance>":{"<metric>":{"time","value","rate"?}}}}` */
  snapshot(appKey: string): Promise<MetricsBody>;
  nowSeconds(): number;
  cache: MetricsCache;
  close(): void;
}

function queryDuration(registry: Registry): Histogram<'query'> {
  return histogram(registry, {
    name: 'logway_metrics_query_duration_seconds',
    help: 'Time InfluxDB took to answer the metrics API (series, snapshot), cache misses only',
    labelNames: ['query'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
}

/** InfluxDB that is up but has no such database (a misconfigured INFLUX_DB) is, for the caller, unavailable. */
function asUnavailable(e: unknown): never {
  // A missing database, a server error, or a 404 (not InfluxDB's query endpoint: something else
  // holds its address) is InfluxDB unavailable. A query InfluxDB refuses (400) is logway's bug: a
  // 500, never the caller's 4xx (lib/http keeps 4xx for errors made to be shown).
  if (e instanceof InfluxError && (/database not found/i.test(e.message) || e.status === 404 || (e.status ?? 0) >= 500)) {
    throw new Unavailable('InfluxDB', e.message);
  }
  throw e;
}

export function createMetricsService(influx: Influx, registry: Registry, opts: MetricsServiceOptions): MetricsService {
  // Freshness is node-cache's own clock (Date.now), as its TTLs are; `now` only places buckets.
  const cache = new MetricsCache(opts, registry);
  const duration = queryDuration(registry);
  const inflight = new Map<string, Promise<MetricsBody>>();

  async function timed<T>(query: string, fn: () => Promise<T>): Promise<T> {
    const end = duration.startTimer({ query });
    try {
      return await fn();
    } catch (e) {
      asUnavailable(e);
    } finally {
      end();
    }
  }

  /** Identical concurrent misses share one InfluxDB read. */
  function once(key: string, fn: () => Promise<MetricsBody>): Promise<MetricsBody> {
    const running = inflight.get(key);
    if (running) return running;
    const p = fn().finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  const read = (app: string, range: MetricsRange, from: number, to: number) =>
    timed('series', () => querySeries(influx, app, { ...range, from, to }, { plan: opts.plan, transport: opts.transport, aggregation: opts.aggregation }));

  async function compute(app: string, range: MetricsRange, base: string, responseKey: string): Promise<MetricsBody> {
    const now = opts.now() / 1000;
    // Buckets starting at or after `open` may still change; those before it are closed.
    const open = Math.min(range.to, Math.max(range.from, Math.floor((now - opts.settleSeconds) / range.resolution) * range.resolution));
    let closed: MetricsResult | undefined;
    let fresh: MetricsResult | undefined;
    if (open > range.from) {
      const closedKey = `${base}\u0000${range.from}\u0000${open}`;
      const text = opts.cache ? cache.get<string>('closed', closedKey) : undefined;
      if (text !== undefined) {
        closed = JSON.parse(text) as MetricsResult;
        if (open < range.to) fresh = await read(app, range, open, range.to);
      } else {
        [closed, fresh] = splitAt(await read(app, range, range.from, range.to), open);
        if (opts.cache) cache.set('closed', closedKey, JSON.stringify(closed), opts.closedTtlSeconds);
      }
    } else {
      fresh = await read(app, range, range.from, range.to);
    }
    const body = toBody(mergeResults(closed, fresh));
    if (opts.cache) cache.setAnswer(responseKey, body, open < range.to ? opts.openTtlSeconds : opts.closedTtlSeconds);
    return body;
  }

  /**
   * Only a range that ended before InfluxDB went away may be answered stale: its buckets were all
   * written then, so the kept answer is what InfluxDB would say (less late samples). A range reaching
   * into the outage would hide that its newest buckets are missing.
   */
  function endedBeforeOutage(range: MetricsRange): boolean {
    const since = opts.influxDownSince?.()?.getTime() ?? opts.now();
    return range.to * 1000 <= since;
  }

  return {
    cache,
    nowSeconds: () => opts.now() / 1000,
    async series(app, range) {
      const base = `${app}\u0000${range.stat}\u0000${range.resolution}`;
      const responseKey = `${base}\u0000${range.from}\u0000${range.to}`;
      const { fresh, stale } = opts.cache ? cache.getAnswer<MetricsBody>(responseKey) : {};
      if (fresh) return fresh;
      try {
        return await once(`s\u0000${responseKey}`, () => compute(app, range, base, responseKey));
      } catch (e) {
        if (!(e instanceof Unavailable && e.dependency === 'InfluxDB') || !endedBeforeOutage(range)) throw e;
        if (opts.cache) cache.countStale(stale !== undefined);
        if (!stale) throw e;
        return { ...stale, stale: true };
      }
    },
    async snapshot(app) {
      if (opts.cache) {
        const hit = cache.get<MetricsBody>('snapshot', app);
        if (hit !== undefined) return hit;
      }
      return once(`c\u0000${app}`, async () => {
        const now = opts.now();
        const params = { app, since: new Date(now - opts.snapshotWindowSeconds * 1000).toISOString(), now: new Date(now).toISOString() };
        const results = await timed('snapshot', () => influx.query(buildSnapshotStatement(), params, { epoch: 'ms' }));
        const body = toBody(shapeSnapshot(results, (n) => METRIC_KIND.get(n)));
        if (opts.cache) cache.set('snapshot', app, body, opts.snapshotTtlSeconds);
        return body;
      });
    },
    close() {
      cache.close();
    },
  };
}
