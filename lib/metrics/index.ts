/** The metrics slice: the service behind GET /apps/:app/metrics and /metrics/current (routes/metrics.ts), read from InfluxDB (docs/design.md §3 "Metrics"). */
import type { Core, Feature } from '../core';
import { createMetricsService, MetricsService, MetricsServiceOptions } from './service';

export type MetricsFeatureOptions = Partial<MetricsServiceOptions>;

export const METRICS_DEFAULTS: MetricsServiceOptions = {
  openTtlSeconds: 10,
  staleSeconds: 3600,
  closedTtlSeconds: 3600,
  settleSeconds: 60,
  maxKeys: 1000,
  // Measured in BENCHMARKS.md: per-metric parallel requests spread over InfluxDB's cores best;
  // one multi-statement request runs its statements one after another.
  plan: 'metric',
  transport: 'parallel',
  aggregation: 'node',
  cache: true,
  snapshotWindowSeconds: 600,
  snapshotTtlSeconds: 5,
  now: () => Date.now(),
};

export interface MetricsFeature extends Feature {
  name: 'metrics';
  service: MetricsService;
}

export function createMetricsFeature(core: Core, opts: MetricsFeatureOptions = {}): MetricsFeature {
  const service = createMetricsService(core.influx, core.prom.registry, {
    ...METRICS_DEFAULTS,
    staleSeconds: core.config.metricsStaleSeconds,
    influxDownSince: () => core.dependencies.downSince('influxdb'),
    ...opts,
  });
  return {
    name: 'metrics',
    service,
    async stop() {
      service.close();
    },
  };
}

export { parseMetricsQuery } from './params';
export type { MetricsRange, Stat } from './params';
export type { MetricsResult, Snapshot } from './query';
