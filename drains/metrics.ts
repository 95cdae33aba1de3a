/** Drain metrics on the core's registry (prefix logway_drain_): per drain delivered, failed, retried, parked, queue depth, last success; DLQ depth, drops and quarantined lines. */
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../lib/prom';
import { malformedBy, sourceMetrics, type LogLineReaderDeps } from '../lib/kafka';

export interface DepthSource {
  /** Per drain: lines queued, in flight or waiting for a retry. */
  depths(): { drain: string; app: string; depth: number }[];
}

export interface DrainMetrics {
  delivered: Counter<'drain' | 'app'>;
  failed: Counter<'drain' | 'app'>;
  retried: Counter<'drain' | 'app'>;
  parked: Counter<'drain' | 'app'>;
  /** DLQ rows deleted, oldest first, to keep a drain within MAX_DLQ_ROWS_PER_DRAIN. */
  dlqDropped: Counter<'drain' | 'app'>;
  /** Lines PostgreSQL refused to store in the DLQ even alone: skipped, so nothing else waits on them. */
  dlqQuarantined: Counter<'drain' | 'app'>;
  lastSuccess: Gauge<'drain' | 'app'>;
  queueDepth: Gauge<'drain' | 'app'>;
  dlqDepth: Gauge<'drain' | 'app'>;
  dlqTotal: Gauge<string>;
  /** logway_lines_consumed_total{consumer="drains"}, the log source's series the tail hub counts into too. */
  lines: { inc(value?: number): void };
  /** logway_log_messages_malformed_total{consumer="drains"}, as the drains' LogLineReader counts. */
  malformed: LogLineReaderDeps['malformed'];
  lag: Gauge<'topic' | 'partition'>;
  sources: Set<DepthSource>;
  /** Set by the feature: reads the DLQ depth per drain when Prometheus scrapes. */
  dlqCounter?: () => Promise<{ drain: string; app: string; count: number }[]>;
  /** Forgets a deleted drain's series. */
  removeDrain(drain: string, app: string): void;
}

const byRegistry = new WeakMap<Registry, DrainMetrics>();

/** One set per registry (tests build several features on one core). */
export function drainMetrics(registry: Registry): DrainMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const labelNames = ['drain', 'app'] as const;
  const source = sourceMetrics(registry);
  const sources = new Set<DepthSource>();
  const m: DrainMetrics = {
    sources,
    delivered: counter(registry, { name: 'logway_drain_delivered_total', help: 'Lines acknowledged by a drain', labelNames }),
    failed: counter(registry, { name: 'logway_drain_failed_total', help: 'Line delivery attempts that failed', labelNames }),
    retried: counter(registry, { name: 'logway_drain_retried_total', help: 'Lines scheduled for another attempt', labelNames }),
    parked: counter(registry, { name: 'logway_drain_parked_total', help: 'Lines parked in the dead-letter queue', labelNames }),
    dlqDropped: counter(registry, {
      name: 'logway_drain_dlq_dropped_total',
      help: 'Dead-letter lines dropped, oldest first, to keep a drain within MAX_DLQ_ROWS_PER_DRAIN',
      labelNames,
    }),
    dlqQuarantined: counter(registry, {
      name: 'logway_drain_dlq_quarantined_total',
      help: 'Lines PostgreSQL refused to store in the dead-letter queue (skipped alone, logged with their position)',
      labelNames,
    }),
    lastSuccess: gauge(registry, {
      name: 'logway_drain_last_success_timestamp_seconds',
      help: 'When a drain last acknowledged a line (unix seconds)',
      labelNames,
    }),
    queueDepth: gauge(registry, {
      name: 'logway_drain_queue_depth',
      help: 'Lines queued, in flight or waiting for a retry, per drain',
      labelNames,
      collect() {
        this.reset();
        for (const s of sources) for (const d of s.depths()) this.set({ drain: d.drain, app: d.app }, d.depth);
      },
    }),
    dlqDepth: gauge(registry, {
      name: 'logway_drain_dlq_depth',
      help: 'Lines in the dead-letter queue, per drain',
      labelNames,
      async collect() {
        if (!m.dlqCounter) return;
        try {
          const rows = await m.dlqCounter();
          this.reset();
          for (const r of rows) this.set({ drain: r.drain, app: r.app }, r.count);
        } catch {
          // PostgreSQL down: keep the last values; /health/ready reports the outage.
        }
      },
    }),
    dlqTotal: gauge(registry, {
      name: 'logway_dlq_depth',
      help: 'Lines in the drains dead-letter queue',
      async collect() {
        if (!m.dlqCounter) return;
        try {
          this.set((await m.dlqCounter()).reduce((n, r) => n + r.count, 0));
        } catch {
          // as above
        }
      },
    }),
    lines: source.linesConsumed.labels({ consumer: 'drains' }),
    malformed: malformedBy(source.malformed, 'drains'),
    lag: gauge(registry, {
      name: 'logway_drain_kafka_lag',
      help: 'Messages behind the high watermark, per partition read by the drain workers',
      labelNames: ['topic', 'partition'],
    }),
    removeDrain(drain, app) {
      for (const metric of [m.delivered, m.failed, m.retried, m.parked, m.dlqDropped, m.dlqQuarantined, m.lastSuccess, m.queueDepth, m.dlqDepth]) {
        try {
          metric.remove({ drain, app });
        } catch {
          // never had that series
        }
      }
    },
  };
  byRegistry.set(registry, m);
  return m;
}
