/** The tail's Prometheus metrics (docs/design.md §3 "Operating logway itself"). */
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../prom';
import { sourceMetrics } from '../kafka';

export interface TailMetrics {
  sessionsActive: Gauge;
  linesDelivered: Counter;
  linesDropped: Counter;
  /** Streams refused by a limit: `streams_per_app` (MAX_STREAMS_PER_APP) or `readbacks` (read-back queue full). */
  sessionsRefused: Counter<'reason'>;
  hubLag: Gauge;
  /** The log source's series, shared with the drain workers: the hub counts as consumer="tail". */
  linesConsumed: Counter<'consumer'>;
  malformed: Counter<'consumer' | 'kind'>;
}

export function createTailMetrics(registry: Registry): TailMetrics {
  const { linesConsumed, malformed } = sourceMetrics(registry);
  return {
    sessionsActive: gauge(registry, { name: 'logway_tail_sessions_active', help: 'Log-session streams open on this node' }),
    linesDelivered: counter(registry, { name: 'logway_tail_lines_delivered_total', help: 'Log lines written to log-session streams (history and live)' }),
    linesDropped: counter(registry, {
      name: 'logway_tail_lines_dropped_total',
      help: 'Live lines dropped because a log-session client read too slowly (L11)',
    }),
    sessionsRefused: counter(registry, {
      name: 'logway_tail_sessions_refused_total',
      help: 'Log-session streams refused (429 or 503) by a limit, by reason',
      labelNames: ['reason'],
    }),
    hubLag: gauge(registry, { name: 'logway_tail_hub_lag', help: 'Messages the tail hub is behind the high watermark (max over its partitions)' }),
    linesConsumed,
    malformed,
  };
}
