/** logway's own Prometheus metrics (prefix logway_). One registry per running instance, passed down. */
import { Registry, collectDefaultMetrics, Counter, Histogram } from 'prom-client';

export interface Prom {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
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
  };
}
