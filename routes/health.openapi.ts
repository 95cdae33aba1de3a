/** The contract of routes/health.ts: liveness, readiness and logway's own Prometheus metrics (unauthenticated). */
import { E, error, ok, ref, requestIdHeader } from '../lib/openapi/common';
import type { Fragment } from '../lib/openapi/types';

export function healthOpenApi(): Fragment {
  return {
    paths: {
      '/healthz': {
        get: { tags: ['operations'], operationId: 'healthz', security: [], responses: { '200': ok('The HTTP server runs.', ref('State')) } },
      },
      '/health/live': {
        get: { tags: ['operations'], operationId: 'healthLive', security: [], responses: { '200': ok('The HTTP server runs.', ref('State')) } },
      },
      '/health/ready': {
        get: {
          tags: ['operations'],
          operationId: 'healthReady',
          summary: 'Can this node do its main job',
          description: 'Each dependency checked (Kafka, InfluxDB, PostgreSQL, migrations); no internal host or port in the body.',
          security: [],
          responses: {
            '200': ok('Ready (`UP`, or `DEGRADED` naming what is down while tails still work).', ref('Readiness')),
            '503': ok('Not ready; `message` names what is down.', ref('Readiness')),
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          operationId: 'prometheusMetrics',
          summary: "logway's own metrics (prefix `logway_`)",
          // Open only when METRICS_TOKEN is unset (development).
          security: [{ metricsToken: [] }, {}],
          responses: {
            '200': {
              description: 'Prometheus text format; JSON with `Accept: application/json`.',
              headers: requestIdHeader,
              content: {
                'text/plain': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'array', items: { type: 'object' } } },
              },
            },
            '401': error('METRICS_TOKEN is set and the request did not carry `Authorization: Bearer <METRICS_TOKEN>`.', {
              'WWW-Authenticate': { description: '`Bearer realm="logway metrics"`', schema: { type: 'string' } },
            }),
            '500': E.internal,
          },
        },
      },
    },
    schemas: {
      State: {
        type: 'object',
        required: ['state'],
        properties: { state: { type: 'string', enum: ['UP'] } },
      },
      DependencyState: {
        type: 'object',
        required: ['state'],
        properties: { state: { type: 'string', enum: ['UP', 'DOWN', 'DEGRADED'] }, error: { type: 'string' } },
      },
      Readiness: {
        type: 'object',
        required: ['state', 'dependencies'],
        properties: {
          state: { type: 'string', enum: ['UP', 'DOWN', 'DEGRADED'] },
          message: { type: 'string', examples: ['Not ready: kafka down.'] },
          dependencies: {
            type: 'object',
            description:
              'Kafka, InfluxDB, PostgreSQL, migrations, and each Kafka consumer as `consumer:<name>` (`DEGRADED` while it holds a partition quarantined).',
            additionalProperties: ref('DependencyState'),
          },
          quarantined: {
            type: 'array',
            description:
              'Kafka partitions a consumer holds as poison (every batch of theirs failed, or a record batch could not be decoded); present only when there is one. The other partitions keep flowing.',
            items: ref('QuarantinedPartition'),
          },
        },
      },
      QuarantinedPartition: {
        type: 'object',
        required: ['consumer', 'topic', 'partition', 'state', 'since', 'retry_at', 'reason'],
        properties: {
          consumer: { type: 'string', description: '`tail-hub`, `drains`, `builds`, or `drains/<n>` for a drain worker process.', examples: ['drains/1'] },
          topic: { type: 'string' },
          partition: { type: 'integer', minimum: 0 },
          state: {
            type: 'string',
            enum: ['quarantined', 'retrying'],
            description: '`quarantined`: paused until `retry_at`; `retrying`: resumed at `retry_at`, listed until one of its batches goes through.',
          },
          since: { type: 'string', format: 'date-time', description: 'When it was first quarantined.' },
          retry_at: { type: 'string', format: 'date-time', description: 'When it is (or was) tried again.' },
          reason: {
            type: 'string',
            maxLength: 200,
            description: "The handler's error message, or why a record batch could not be decoded: its first line, at most 200 characters.",
          },
        },
      },
    },
  };
}
