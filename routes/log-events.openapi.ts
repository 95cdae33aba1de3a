/** The contract of routes/log-events.ts: a platform event into an app's log stream (lib/events.ts validateLogEvent). */
import { authed, bodyErrors, E, error, EXAMPLE_APP, EXAMPLE_SPACE, json, ok, ref } from '../lib/openapi/common';
import type { Fragment, Schema } from '../lib/openapi/types';
import { MAX_EVENT_FIELD_LENGTH, MAX_LOG_BYTES } from '../lib/events';
import { BUILD_TOPIC, ROUTER_TOPIC } from '../lib/log/parse';

const field: Schema = { type: 'string', maxLength: MAX_EVENT_FIELD_LENGTH };

const logSpecRequest: Schema = {
  type: 'object',
  description: 'A fluentd-shaped LogSpec from the Akkeris controller; only platform sources (`akkeris/<name>`) are accepted.',
  required: ['log', 'kubernetes', 'topic'],
  properties: {
    log: {
      type: 'string',
      minLength: 1,
      // A character is at least one byte: the byte limit bounds the length too.
      maxLength: MAX_LOG_BYTES,
      pattern: '\\S',
      description: `Not blank, at most ${MAX_LOG_BYTES} bytes (UTF-8). The other strings: at most ${MAX_EVENT_FIELD_LENGTH} characters (else 422 naming the field).`,
    },
    stream: { type: 'string', enum: ['stdout', 'stderr'], default: 'stdout' },
    time: { type: 'string', format: 'date-time', description: 'RFC3339; default now.' },
    docker: { type: 'object', properties: { container_id: field } },
    kubernetes: {
      type: 'object',
      required: ['container_name', 'pod_name'],
      properties: {
        container_name: { type: 'string', pattern: '^[a-z0-9]+$', maxLength: MAX_EVENT_FIELD_LENGTH, description: 'The app name.', examples: [EXAMPLE_APP] },
        pod_name: { type: 'string', pattern: '^akkeris/[a-z0-9._-]+$', maxLength: MAX_EVENT_FIELD_LENGTH, examples: ['akkeris/event'] },
        namespace_name: field,
        pod_id: field,
        host: field,
        labels: { type: 'object', properties: { name: field } },
      },
    },
    topic: {
      type: 'string',
      pattern: '^[a-zA-Z0-9.-][a-zA-Z0-9._-]{0,248}$',
      not: { enum: [BUILD_TOPIC, ROUTER_TOPIC] },
      description:
        'The space: a Kafka topic that already exists (else 422; no topic is created). The platform topics `alamobuildlogs` and `alamoweblogs` are not spaces (422).',
      examples: [EXAMPLE_SPACE],
    },
    tag: field,
  },
  examples: [
    {
      log: 'Release v42 created by ops@example.com',
      stream: 'stdout',
      kubernetes: { container_name: EXAMPLE_APP, pod_name: 'akkeris/event' },
      topic: EXAMPLE_SPACE,
    },
  ],
};

const logSpec: Schema = {
  type: 'object',
  description: 'The LogSpec as produced to Kafka, defaults filled in (Akkeris echoes it).',
  required: ['log', 'stream', 'time', 'docker', 'kubernetes', 'topic', 'tag'],
  properties: {
    log: { type: 'string' },
    stream: { type: 'string', enum: ['stdout', 'stderr'] },
    time: { type: 'string' },
    docker: { type: 'object', required: ['container_id'], properties: { container_id: { type: 'string' } } },
    kubernetes: {
      type: 'object',
      required: ['namespace_name', 'pod_id', 'pod_name', 'container_name', 'labels', 'host'],
      properties: {
        namespace_name: { type: 'string' },
        pod_id: { type: 'string' },
        pod_name: { type: 'string' },
        container_name: { type: 'string' },
        labels: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        host: { type: 'string' },
      },
    },
    topic: { type: 'string' },
    tag: { type: 'string' },
  },
};

export function logEventsOpenApi(): Fragment {
  return {
    paths: {
      '/log-events': {
        post: {
          tags: ['events'],
          operationId: 'createLogEvent',
          summary: "A platform event into the app's log stream",
          description: 'Produced to the space topic keyed by app key; 201 only after the broker acknowledged (acks=-1).',
          requestBody: { required: true, content: json(ref('LogSpecRequest')) },
          responses: {
            ...authed,
            ...bodyErrors,
            '201': ok('The LogSpec as produced.', ref('LogSpec')),
            '400': error('Not JSON, or JSON that is not an object.'),
            '422': error('A field is missing or not valid, or the space (topic) does not exist.'),
            '503': E.unavailable('Kafka or PostgreSQL'),
          },
        },
      },
    },
    schemas: { LogSpecRequest: logSpecRequest, LogSpec: logSpec },
  };
}
