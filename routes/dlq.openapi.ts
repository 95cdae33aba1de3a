/** The contract of routes/dlq.ts: the drains' dead-letter queue (list, retry, discard). */
import { authed, bodyErrors, E, error, json, ok, ref, timestamp } from '../lib/openapi/common';
import type { Fragment, Operation, Parameter, Schema } from '../lib/openapi/types';
import { DLQ_DEFAULT_LIMIT, DLQ_MAX_LIMIT } from './dlq';

const dlqId: Schema = {
  oneOf: [
    { type: 'string', pattern: '^[0-9]{1,18}$' },
    { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  ],
};
const idList = '^[0-9]{1,18}(,[0-9]{1,18})*$';

const dlqQuery: Parameter[] = [
  { name: 'drain', in: 'query', schema: { type: 'string', format: 'uuid' }, description: 'A drain id; not a uuid → 422.' },
  { name: 'app', in: 'query', schema: { type: 'string', minLength: 1, pattern: '\\S' }, description: 'An app key or site; blank → 422.' },
  { name: 'id', in: 'query', schema: { type: 'string', pattern: idList }, description: 'DLQ line ids, comma-separated; not a positive integer → 422.' },
  { name: 'ids', in: 'query', schema: { type: 'string', pattern: idList }, description: 'Same as `id`.' },
];

function dlqChange(verb: 'retry' | 'discard'): Operation {
  const counted = verb === 'retry' ? 'retried' : 'discarded';
  return {
    tags: ['dead-letter queue'],
    operationId: verb === 'retry' ? 'retryDlq' : 'discardDlq',
    summary: verb === 'retry' ? 'Mark parked DLQ lines for another delivery' : 'Discard DLQ lines',
    parameters: [...dlqQuery, { name: 'all', in: 'query', schema: { type: 'string', enum: ['true'] }, description: 'Every line.' }],
    requestBody: { required: false, content: json(ref('DlqSelector')) },
    responses: {
      ...authed,
      ...bodyErrors,
      [verb === 'retry' ? '202' : '200']: ok(
        verb === 'retry' ? 'How many parked lines were marked; a worker resends them within seconds.' : 'How many lines were discarded.',
        { type: 'object', required: [counted], properties: { [counted]: { type: 'integer', minimum: 0 } } },
      ),
      '400': error(
        `Nothing selected (\`The request did not say which lines to ${verb}: give "id", "ids", "drain" or "app" (or "all": true).\`), or a body that is not JSON.`,
      ),
      '422': error('A selector is not valid (id not a positive integer, drain not a uuid, empty app).'),
      '503': E.unavailable('PostgreSQL'),
    },
  };
}

export function dlqOpenApi(): Fragment {
  return {
    paths: {
      '/drains/dlq': {
        get: {
          tags: ['dead-letter queue'],
          operationId: 'listDlq',
          summary: 'Count and list DLQ lines',
          parameters: [
            ...dlqQuery,
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 0, maximum: DLQ_MAX_LIMIT, default: DLQ_DEFAULT_LIMIT },
              description: `0 is a count; not 0..${DLQ_MAX_LIMIT} → 422.`,
            },
          ],
          responses: {
            ...authed,
            '200': ok('Matching lines, oldest first.', ref('DlqList')),
            '422': error('A filter or `limit` is not valid.'),
            '503': E.unavailable('PostgreSQL'),
          },
        },
        delete: dlqChange('discard'),
      },
      '/drains/dlq/retry': { post: dlqChange('retry') },
    },
    schemas: {
      DlqEntry: {
        type: 'object',
        required: ['id', 'drain_id', 'app', 'line', 'attempts', 'last_error', 'first_attempt_at', 'last_attempt_at', 'created_at', 'state'],
        properties: {
          id: { type: 'string', pattern: '^[0-9]+$', description: 'A bigint, as a string.' },
          drain_id: { type: 'string', format: 'uuid' },
          app: { type: 'string', description: 'App key or site.' },
          line: ref('LogLineRecord'),
          attempts: { type: 'integer', minimum: 0 },
          last_error: { type: 'string' },
          first_attempt_at: { type: ['string', 'null'], format: 'date-time' },
          last_attempt_at: { type: ['string', 'null'], format: 'date-time' },
          created_at: timestamp,
          state: { type: 'string', enum: ['parked', 'retry', 'inflight'] },
        },
      },
      DlqDrops: {
        type: 'object',
        description: "Lines dropped (oldest first) to keep a drain's DLQ within `MAX_DLQ_ROWS_PER_DRAIN`.",
        required: ['drain_id', 'app', 'dropped', 'last_dropped_at'],
        properties: {
          drain_id: { type: 'string', format: 'uuid' },
          app: { type: 'string', description: 'App key or site.' },
          dropped: { type: 'integer', minimum: 0 },
          last_dropped_at: timestamp,
        },
      },
      DlqList: {
        type: 'object',
        required: ['count', 'items', 'dropped', 'dropped_by_drain'],
        properties: {
          count: { type: 'integer', minimum: 0, description: 'Lines matching the filters (not only those returned).' },
          items: { type: 'array', items: ref('DlqEntry'), description: 'Oldest first.' },
          dropped: { type: 'integer', minimum: 0, description: 'Lines dropped for the drains selected, in all.' },
          dropped_by_drain: { type: 'array', items: ref('DlqDrops') },
        },
      },
      DlqSelector: {
        type: 'object',
        description: 'Which DLQ lines: the filters combine; `{"all": true}` selects every line. The same keys work as query parameters.',
        properties: {
          id: dlqId,
          ids: { type: 'array', items: dlqId },
          drain: { type: 'string', format: 'uuid' },
          app: { type: 'string', minLength: 1, pattern: '\\S' },
          all: { type: 'boolean' },
        },
      },
    },
  };
}
