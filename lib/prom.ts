/** logway's own Prometheus metrics (prefix logway_). One registry per running instance, passed down. */
import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';

export interface Prom {
  registry: Registry;
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
  return {
    registry,
    httpRequests: new Counter({
      name: 'logway_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'logway_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'logway_dependency_up',
      help: 'Whether a dependency (kafka, postgresql, influxdb) is reachable: 1 up, 0 down',
      labelNames: ['dependency'],
      registers: [registry],
    }),
    dependencyChanges: new Counter({
      name: 'logway_dependency_state_changes_total',
      help: 'Dependency outages begun (state="down") and ended (state="up")',
      labelNames: ['dependency', 'state'],
      registers: [registry],
    }),
    consumerUp: new Gauge({
      name: 'logway_kafka_consumer_up',
      help: 'Whether a Kafka consumer group member is running: 0 from a crash until it makes progress again',
      labelNames: ['consumer'],
      registers: [registry],
    }),
  };
}
