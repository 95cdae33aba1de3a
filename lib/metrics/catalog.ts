/** The metrics docs/design.md §3 names, and how each is read: gauges are averaged, counters become rates. */
export type MetricKind = 'gauge' | 'counter';

export interface MetricDef {
  /** The InfluxDB measurement and the name in the response. */
  name: string;
  kind: MetricKind;
}

export const METRICS: readonly MetricDef[] = [
  { name: 'cpu_system_seconds_total', kind: 'counter' },
  { name: 'cpu_usage_seconds_total', kind: 'counter' },
  { name: 'cpu_user_seconds_total', kind: 'counter' },
  { name: 'fs_io_time_seconds_total', kind: 'counter' },
  { name: 'fs_usage_bytes', kind: 'gauge' },
  { name: 'memory_cache', kind: 'gauge' },
  { name: 'memory_rss', kind: 'gauge' },
  { name: 'memory_usage_bytes', kind: 'gauge' },
  { name: 'memory_working_set_bytes', kind: 'gauge' },
  { name: 'network_receive_bytes_total', kind: 'counter' },
  { name: 'network_receive_errors_total', kind: 'counter' },
  { name: 'network_transmit_bytes_total', kind: 'counter' },
  { name: 'network_transmit_errors_total', kind: 'counter' },
];

export const GAUGES = METRICS.filter((m) => m.kind === 'gauge').map((m) => m.name);
export const COUNTERS = METRICS.filter((m) => m.kind === 'counter').map((m) => m.name);
export const METRIC_KIND: ReadonlyMap<string, MetricKind> = new Map(METRICS.map((m) => [m.name, m.kind]));
