/** The metrics response cache (node-cache), with hit/miss counters on logway's Prometheus registry.
 *
 * Entries are finished JSON (a Buffer with its ETag for answers, text for closed buckets), never mutated, so
 * node-cache needs no clones and a hit is sent as is:
 * - `response`: the whole answer for (app, stat, resolution, bucket-aligned from, bucket-aligned to); short TTL
 *   while its last bucket is still open, long once every bucket is closed;
 * - `closed`: the closed buckets of that range (long TTL), so that when the response entry expires only the
 *   open buckets are read from InfluxDB again.
 * `to` defaults to now, so the aligned key moves on when a new bucket starts: a new bucket is a new key.
 *
 * A `response` entry outlives its TTL by `staleSeconds`: past its TTL it is a miss, but while InfluxDB
 * is down the service may still serve it, marked stale (issue 13, docs/metrics.md "While InfluxDB is away"). */
import NodeCache from 'node-cache';
import type { Counter, Registry } from 'prom-client';
import { counter as promCounter } from '../prom';

export type CachePart = 'response' | 'closed' | 'snapshot' | 'stale';

export interface MetricsCacheOptions {
  /** Seconds an answer that includes an open bucket is reused (collectors write every ~10 s). */
  openTtlSeconds: number;
  /** Seconds closed buckets are reused (they change only through late writes). */
  closedTtlSeconds: number;
  /** Bound on entries; when full, new answers are simply not cached. */
  maxKeys: number;
  /** Seconds an answer is kept past its TTL, to be served stale while InfluxDB is down (0: not kept). */
  staleSeconds: number;
}

/** A whole answer and when it stops being fresh (epoch ms); kept until `staleSeconds` after that. */
interface AnswerEntry<T> {
  value: T;
  freshUntil: number;
}

function counter(registry: Registry, name: string, help: string): Counter<'part'> {
  return promCounter(registry, { name, help, labelNames: ['part'] });
}

export class MetricsCache {
  private cache: NodeCache;
  private hits: Counter<'part'>;
  private misses: Counter<'part'>;

  constructor(
    public readonly opts: MetricsCacheOptions,
    registry: Registry,
    private now: () => number = Date.now,
  ) {
    this.cache = new NodeCache({ useClones: false, checkperiod: 60, maxKeys: opts.maxKeys });
    this.hits = counter(
      registry,
      'logway_metrics_cache_hits_total',
      'Metrics API cache hits, by part (response, closed buckets, snapshot, stale: an expired answer served while InfluxDB is down)',
    );
    this.misses = counter(
      registry,
      'logway_metrics_cache_misses_total',
      'Metrics API cache misses, by part (response, closed buckets, snapshot, stale: no answer to serve while InfluxDB is down)',
    );
  }

  get<T>(part: CachePart, key: string): T | undefined {
    const v = this.cache.get<T>(`${part}\u0000${key}`);
    (v === undefined ? this.misses : this.hits).inc({ part });
    return v;
  }

  set<T>(part: CachePart, key: string, value: T, ttlSeconds: number): void {
    try {
      this.cache.set(`${part}\u0000${key}`, value, ttlSeconds);
    } catch {
      // ECACHEFULL: serve uncached rather than grow without bound.
    }
  }

  /** A whole answer while fresh (a hit); past its TTL a miss, but still returned as `stale` until `staleSeconds` after. */
  getAnswer<T>(key: string): { fresh?: T; stale?: T } {
    const e = this.cache.get<AnswerEntry<T>>(`response\u0000${key}`);
    const now = this.now();
    if (e !== undefined && now < e.freshUntil) {
      this.hits.inc({ part: 'response' });
      return { fresh: e.value };
    }
    this.misses.inc({ part: 'response' });
    return e !== undefined && now < e.freshUntil + this.opts.staleSeconds * 1000 ? { stale: e.value } : {};
  }

  setAnswer<T>(key: string, value: T, ttlSeconds: number): void {
    const entry: AnswerEntry<T> = { value, freshUntil: this.now() + ttlSeconds * 1000 };
    this.set('response', key, entry, ttlSeconds + this.opts.staleSeconds);
  }

  /** Counts a stale answer served (hit) or wanted but missing (miss) while InfluxDB is down. */
  countStale(served: boolean): void {
    (served ? this.hits : this.misses).inc({ part: 'stale' });
  }

  close(): void {
    this.cache.close();
  }
}
