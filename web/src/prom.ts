/** `GET /metrics` with `Accept: application/json` (prom-client's JSON): logway's own figures. */
import { api } from './api';

export interface PromMetric {
  name: string;
  type: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

export async function promFigures(): Promise<Map<string, PromMetric>> {
  const list = await api<PromMetric[]>('GET', '/metrics');
  return new Map(list.map((m) => [m.name, m]));
}

/** Sum of a metric's values whose labels match (all of `where`). */
export function sum(m: Map<string, PromMetric>, name: string, where: Record<string, string> = {}): number | undefined {
  const metric = m.get(name);
  if (!metric) return undefined;
  let total = 0;
  for (const v of metric.values) {
    if (v.metricName && v.metricName !== name) continue;
    if (Object.entries(where).every(([k, want]) => String(v.labels[k]) === want)) total += v.value;
  }
  return total;
}
