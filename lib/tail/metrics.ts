/** The tail's Prometheus metrics (DESIGN §3 "Operating logway itself"). */
import { Counter, Gauge, Registry } from 'prom-client';

export interface TailMetrics {
  sessionsActive: Gauge;
  linesDelivered: Counter;
  linesDropped: Counter;
  /** Streams refused by a limit: `streams_per_app` (MAX_STREAMS_PER_APP) or `readbacks` (read-back queue full). */
  sessionsRefused: Counter<'reason'>;
  hubLag: Gauge;
  linesConsumed: Counter<'consumer'>;
  malformed: Counter<'kind'>;
}

/**
 * Reuses a metric another feature (or an earlier hub on the same registry) already registered,
 * so two slices counting the same thing (lines consumed, malformed messages) share one series.
 */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

export function createTailMetrics(registry: Registry): TailMetrics {
  return {
    sessionsActive: gauge(registry, 'logway_tail_sessions_active', 'Log-session streams open on this node'),
    linesDelivered: counter(registry, 'logway_tail_lines_delivered_total', 'Log lines written to log-session streams (history and live)', []),
    linesDropped: counter(registry, 'logway_tail_lines_dropped_total', 'Live lines dropped because a log-session client read too slowly (L11)', []),
    sessionsRefused: counter(registry, 'logway_tail_sessions_refused_total', 'Log-session streams answered 429 by a limit, by reason', ['reason']),
    hubLag: gauge(registry, 'logway_tail_hub_lag', 'Messages the tail hub is behind the high watermark (max over its partitions)'),
    linesConsumed: counter(registry, 'logway_lines_consumed_total', 'Kafka log messages consumed, by consumer', ['consumer']),
    malformed: counter(registry, 'logway_log_messages_malformed_total', 'Kafka log messages skipped because they could not be parsed, by kind', ['kind']),
  };
}
