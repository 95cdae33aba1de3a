/** logway's own Prometheus metrics (prefix logway_). One registry per running instance, passed down. */
import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration, MetricObjectWithValues, MetricValue } from 'prom-client';

/** One process's figures as prom-client's JSON. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The registry's metric of that name, created on first use. Slices counting the same thing (lines
 * consumed, malformed messages) share one series, and a second feature built on the same registry
 * (tests build several on one core) counts into the first one's. A name already taken by another
 * kind of metric is a bug, and throws.
 */
function getOrCreate<M>(registry: Registry, name: string, kind: abstract new (...args: never[]) => M, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof kind)) throw new Error(`Prometheus metric ${name} is already registered as a ${existing.constructor.name}`);
  return existing;
}

type Config<C> = Omit<C, 'registers'>;

export function counter<L extends string = string>(registry: Registry, cfg: Config<CounterConfiguration<L>>): Counter<L> {
  return getOrCreate(registry, cfg.name, Counter<L>, () => new Counter<L>({ ...cfg, registers: [registry] }));
}

export function gauge<L extends string = string>(registry: Registry, cfg: Config<GaugeConfiguration<L>>): Gauge<L> {
  return getOrCreate(registry, cfg.name, Gauge<L>, () => new Gauge<L>({ ...cfg, registers: [registry] }));
}

export function histogram<L extends string = string>(registry: Registry, cfg: Config<HistogramConfiguration<L>>): Histogram<L> {
  return getOrCreate(registry, cfg.name, Histogram<L>, () => new Histogram<L>({ ...cfg, registers: [registry] }));
}

export interface Prom {
  registry: Registry;
  /** What GET /metrics answers with: this process's registry, or it merged with other processes' figures. */
  exposed(): Promise<Registry>;
  /** Sets how exposed() merges: given this process's figures, the registry to answer with (drains/supervisor). */
  mergeWith(merge: (own: MetricsJson) => Promise<Registry>): void;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  /** 1 while the dependency answers, 0 during an outage (lib/dependencies). */
  dependencyUp: Gauge<'dependency'>;
  /** Outages begun (state=down) and ended (state=up). */
  dependencyChanges: Counter<'dependency' | 'state'>;
  /** 1 while a Kafka consumer runs, 0 from a crash until it makes progress again. */
  consumerUp: Gauge<'consumer'>;
}

export function createProm(opts: { defaultMetrics?: boolean } = {}): Prom {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'logway_' });
  let merge: ((own: MetricsJson) => Promise<Registry>) | undefined;
  return {
    registry,
    exposed: async () => (merge ? merge(await registry.getMetricsAsJSON()) : registry),
    mergeWith: (fn) => {
      merge = fn;
    },
    httpRequests: counter(registry, {
      name: 'logway_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
    }),
    httpDuration: histogram(registry, {
      name: 'logway_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    dependencyUp: gauge(registry, {
      name: 'logway_dependency_up',
      help: 'Whether a dependency (kafka, postgresql, influxdb) is reachable: 1 up, 0 down',
      labelNames: ['dependency'],
    }),
    dependencyChanges: counter(registry, {
      name: 'logway_dependency_state_changes_total',
      help: 'Dependency outages begun (state="down") and ended (state="up")',
      labelNames: ['dependency', 'state'],
    }),
    consumerUp: gauge(registry, {
      name: 'logway_kafka_consumer_up',
      help: 'Whether a Kafka consumer group member is running: 0 from a crash until it makes progress again',
      labelNames: ['consumer'],
    }),
  };
}
