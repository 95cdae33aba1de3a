/** The contract of routes/metrics.ts: time-bucketed series and the latest samples of an app. */
import { appParam, appRoute, E, error, ok, ref, requestIdHeader } from '../lib/openapi/common';
import type { Fragment } from '../lib/openapi/types';

const etag = { ETag: { $ref: '#/components/headers/ETag' } };
const notModified = { description: 'Unchanged since the `If-None-Match` ETag.', headers: requestIdHeader };

export function metricsOpenApi(): Fragment {
  return {
    paths: {
      '/apps/{app}/metrics': {
        get: {
          tags: ['metrics'],
          operationId: 'getAppMetrics',
          summary: 'Time-bucketed metrics per process type',
          parameters: [
            appParam(),
            {
              name: 'resolution',
              in: 'query',
              schema: { type: 'string', pattern: '^[0-9]{1,9}[smhd]$', default: '30m' },
              description: 'At least 10s, at most 366d.',
            },
            {
              name: 'from',
              in: 'query',
              schema: { type: 'string' },
              description: 'ISO 8601 or epoch seconds; default `to` − 7 days, shortened to the last 1,000 buckets.',
            },
            { name: 'to', in: 'query', schema: { type: 'string' }, description: 'ISO 8601 or epoch seconds; default now; at most 1 day ahead.' },
            { name: 'stat', in: 'query', schema: { type: 'string', enum: ['mean', 'p90'], default: 'mean' } },
          ],
          responses: {
            ...appRoute,
            '200': ok('Grouped by process type.', ref('MetricsSeries'), {
              ...etag,
              Warning: {
                description:
                  '`110 - "Response is Stale"` when InfluxDB is down and this is the cached answer for a range that ended before the outage, served past its TTL (for at most `METRICS_STALE_SECONDS`); absent on a fresh answer.',
                schema: { type: 'string', enum: ['110 - "Response is Stale"'] },
              },
            }),
            '304': notModified,
            '422': error('A parameter is not valid, `from ≥ to`, or more than 1,000 buckets; the message says which and why.'),
            '503': error(
              'A backend is down (InfluxDB or PostgreSQL); the message names it, not its address. While InfluxDB is down, only a range with no cached answer, or one reaching into the outage, is a 503.',
            ),
          },
        },
      },
      '/apps/{app}/metrics/current': {
        get: {
          tags: ['metrics'],
          operationId: 'getAppMetricsCurrent',
          summary: 'The latest sample per process type, instance and metric',
          parameters: [appParam()],
          responses: {
            ...appRoute,
            '200': ok('Snapshot.', ref('MetricsSnapshot'), etag),
            '304': notModified,
            '503': E.unavailable('InfluxDB or PostgreSQL'),
          },
        },
      },
    },
    schemas: {
      MetricsSeries: {
        type: 'object',
        description:
          'process type → metric → bucket start (epoch seconds) → value. Empty buckets and metrics without data are left out; `{}` for an app with no data.',
        additionalProperties: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            propertyNames: { pattern: '^[0-9]+$' },
            additionalProperties: { type: 'number' },
          },
        },
      },
      MetricsSnapshot: {
        type: 'object',
        description: 'process type → instance → metric → the latest sample of the last 10 minutes (counters also carry a per-second `rate`).',
        additionalProperties: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              required: ['time', 'value'],
              properties: { time: { type: 'number' }, value: { type: 'number' }, rate: { type: 'number' } },
            },
          },
        },
      },
    },
  };
}
