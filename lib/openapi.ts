/**
 * The published API contract (docs/design.md §3): an OpenAPI 3.1 document of every route, served at
 * GET /openapi.json. Written as a typed object so the limits it states come from the same Config the
 * routes enforce (MAX_SESSION_LINES, MAX_FILTER_LENGTH, ...). spec/integration/openapi.spec.ts validates
 * real responses against it, and scripts/schemathesis fuzzes a running node with it.
 *
 * Keep it true: a route that gains a status code, a parameter or a body field gains it here too.
 */
import type { Config } from './config';
import { BUILD_TOPIC, ROUTER_TOPIC } from './log/parse';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it); the document itself is checked by spec/integration/openapi.spec.ts. */
type Schema = { [keyword: string]: unknown };
interface Ref {
  $ref: string;
}
interface Header {
  description?: string;
  schema: Schema;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: Schema;
}
interface Response {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, { schema: Schema | Ref }>;
  links?: Record<string, { operationId: string; parameters: Record<string, string>; description?: string }>;
}
type Responses = Record<string, Response>;
interface Operation {
  tags?: string[];
  operationId: string;
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema | Ref }> };
  responses: Responses;
}
interface PathItem {
  parameters?: Parameter[];
  get?: Operation;
  post?: Operation;
  delete?: Operation;
}
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Schema;
  servers: { url: string }[];
  security: Record<string, string[]>[];
  tags: { name: string; description?: string }[];
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Schema>; headers: Record<string, Header>; securitySchemes: Record<string, Schema> };
}

export type OpenApiConfig = Pick<Config, 'publicUrl' | 'maxSessionLines' | 'maxFilterLength' | 'maxDrainsPerApp' | 'maxStreamsPerApp'>;

const ref = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema | Ref) => ({ 'application/json': { schema } });
/** The log-session selectors' rule (lib/tail/params MAX_SELECTOR_LENGTH). */
const SELECTOR_RULE = 'Longer than 128 characters, or with control characters → 422 naming the field.';
const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };

/** An error answer: `{id, message}` (lib/errors.ts), `id` fixed per status. */
function error(description: string, extraHeaders: Record<string, Header | Ref> = {}): Response {
  return { description, headers: { ...requestIdHeader, ...extraHeaders }, content: json(ref('Error')) };
}

function ok(description: string, schema: Schema | Ref, headers: Record<string, Header | Ref> = {}): Response {
  return { description, headers: { ...requestIdHeader, ...headers }, content: json(schema) };
}

/** Every answer the common plumbing can give (lib/http.ts): bad path encoding, auth, internal errors. */
const E = {
  badPath: error('Bad request: a path parameter is not valid percent-encoding.'),
  badBody: error('Bad request: the body is not valid JSON (`The request body was not valid JSON.`), or a required field is missing.'),
  unauthorized: error('No valid API key or token in `Authorization`.'),
  tooLarge: error('The request body is larger than 1 MB.'),
  unsupportedMedia: error('The body uses a charset or content encoding that cannot be read.'),
  notFoundApp: error('`The specified application <app> does not exist.`'),
  unprocessable: error('Validation failed; the message says which field and why.'),
  internal: error('Internal server error (never a stack trace).'),
  unavailable: (what: string) => error(`A backend is down (${what}); the message names it, not its address.`),
};

const bodyErrors: Responses = { '400': E.badBody, '413': E.tooLarge, '415': E.unsupportedMedia };

/** `GET /` and `GET /console`: the web console's page (lib/console.ts), or 503 on a node where it was not built. */
function consolePage(operationId: string): Operation {
  return {
    tags: ['operations'],
    operationId,
    summary: 'The web console (HTML; strict Content-Security-Policy; uses only this API)',
    security: [],
    responses: {
      '200': { description: 'The console page.', headers: requestIdHeader, content: { 'text/html': { schema: { type: 'string', description: 'The page.' } } } },
      '503': error('The console is not built on this node.'),
    },
  };
}

function appParam(): Parameter {
  return {
    name: 'app',
    in: 'path',
    required: true,
    description: 'The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid).',
    schema: { type: 'string', minLength: 1 },
  };
}

function siteParam(): Parameter {
  return {
    name: 'site',
    in: 'path',
    required: true,
    description: 'A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.`',
    schema: { type: 'string', minLength: 1, maxLength: 253 },
  };
}

const drainIdParam: Parameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409.',
  schema: { type: 'string', minLength: 1 },
};

function schemas(cfg: OpenApiConfig): Record<string, Schema> {
  const timestamp: Schema = { type: 'string', format: 'date-time' };
  return {
    Error: {
      type: 'object',
      description: 'Every error: Akkeris message texts, never a stack trace.',
      required: ['id', 'message'],
      additionalProperties: false,
      properties: {
        id: {
          type: 'string',
          description:
            'bad_request (400), unauthorized (401), forbidden (403), not_found (404), conflict (409), payload_too_large (413), unprocessable_entity (422), rate_limited (429), service_unavailable (503), internal_server_error (500).',
          examples: ['not_found'],
        },
        message: { type: 'string', examples: ['The specified application api-space does not exist.'] },
      },
    },
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
    AppSeen: {
      type: 'object',
      required: ['id', 'name', 'last_seen_at'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string', description: 'The app key (`app-space`).' },
        last_seen_at: { type: 'string', format: 'date-time', description: 'When a node last saw a line of the app.' },
      },
    },
    App: {
      type: 'object',
      description: "Enough of Heroku's app object for the Heroku CLI (11.x) to use the Cedar log-session flow.",
      required: ['id', 'name', 'generation'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string', description: 'The app key (`app-space`).' },
        generation: { type: 'string', const: 'cedar' },
      },
    },
    LogSessionRequest: {
      type: 'object',
      description:
        'All filters apply before the `lines` count. Missing `lines` is 422 (as in Akkeris; both CLIs always send it). ' +
        'Strings that are empty or only blanks count as absent.',
      required: ['lines'],
      properties: {
        lines: {
          description:
            `Lines of history, 1..${cfg.maxSessionLines}; a numeric string is accepted (old clients). ` +
            '`< 1` or not a number → 422 `The specified lines was either not a number or less than 1.`; ' +
            `\`> ${cfg.maxSessionLines}\` → 422 \`The specified lines field was larger than allowed (${cfg.maxSessionLines} is the maximum).\``,
          oneOf: [
            { type: 'integer', minimum: 1, maximum: cfg.maxSessionLines },
            { type: 'string', pattern: '^\\s*[0-9]+\\s*$' },
          ],
        },
        tail: {
          description:
            'true: stream live lines after the history; false, null or missing: history only. ' +
            'The strings `"true"` and `"false"` are accepted from old clients; anything else → 422 `The specified tail must be a boolean (true or false).`',
          oneOf: [{ type: ['boolean', 'null'] }, { type: 'string', enum: ['true', 'false'] }],
        },
        dyno: {
          type: ['string', 'null'],
          maxLength: 128,
          description: 'Exact dyno (`web.1562910588-cg82f`) or a process type (`web`). Heroku sends this one. ' + SELECTOR_RULE,
        },
        dyno_name: { type: ['string', 'null'], maxLength: 128, description: 'Same as `dyno` (the Akkeris API name).' },
        type: { type: ['string', 'null'], maxLength: 128, description: 'Exact process type. ' + SELECTOR_RULE },
        source: {
          type: ['string', 'null'],
          maxLength: 128,
          description: '`app`, `akkeris/router`, `router`, or `akkeris` (every platform source). ' + SELECTOR_RULE,
        },
        since: {
          type: ['string', 'null'],
          description: '`30s`, `10m`, `2h`, `1d` or an RFC3339 date-time, resolved at creation. Unparseable, or further back than Kafka keeps lines → 422.',
          examples: ['10m', '2026-11-21T23:58:01Z'],
        },
        filter: {
          type: ['string', 'null'],
          maxLength: cfg.maxFilterLength,
          description:
            `A regular expression tested against each message, run by a linear-time engine. Longer than ${cfg.maxFilterLength} characters, ` +
            'not valid, or using what the engine cannot express (backreferences, lookaround) → 422.',
        },
      },
    },
    LogSession: {
      type: 'object',
      required: ['created_at', 'id', 'logplex_url', 'updated_at'],
      properties: {
        created_at: timestamp,
        id: { type: 'string', format: 'uuid' },
        logplex_url: {
          type: 'string',
          format: 'uri',
          description: '`<PUBLIC_URL>/log-sessions/<signed token>`: unauthenticated, can be opened for 5 minutes.',
        },
        updated_at: timestamp,
      },
    },
    LogLineRecord: {
      type: 'object',
      description: 'One line as NDJSON (`?format=json`), and as kept in the DLQ.',
      required: ['time', 'app', 'space', 'app_key', 'source', 'dyno', 'process_type', 'severity', 'message', 'kafka_topic', 'kafka_partition', 'kafka_offset'],
      properties: {
        time: timestamp,
        app: { type: 'string' },
        space: { type: 'string' },
        app_key: { type: 'string' },
        source: { type: 'string', examples: ['app', 'akkeris/router'] },
        dyno: { type: 'string' },
        process_type: { type: 'string' },
        severity: { type: 'integer', minimum: 0, maximum: 7 },
        message: { type: 'string' },
        kafka_topic: { type: 'string' },
        kafka_partition: { type: 'integer', minimum: 0 },
        kafka_offset: { type: 'string', pattern: '^[0-9]+$' },
      },
    },
    DrainRequest: {
      type: 'object',
      required: ['url'],
      properties: {
        url: {
          type: 'string',
          minLength: 1,
          maxLength: 2048,
          description:
            'syslog://, syslog+tcp://, syslog+tls:// (`#insecure` skips certificate checks), syslog+udp:// (host:port required), http://, https://. ' +
            'Missing → 400 `The request did not include a "url" parameter.`; unsupported scheme, bad host or port, or a refused destination ' +
            '(loopback, link-local, metadata, unspecified, multicast, private unless allowed; checked on the resolved addresses) → 422.',
          examples: ['syslog+tls://logs.example.com:6514', 'https://user:secret@192.0.2.10/logs'],
        },
      },
    },
    Drain: {
      type: 'object',
      required: ['addon', 'created_at', 'id', 'token', 'updated_at', 'url'],
      properties: {
        addon: {
          type: 'object',
          required: ['id', 'name'],
          properties: { id: { type: 'string' }, name: { type: 'string' } },
        },
        created_at: timestamp,
        id: { type: 'string', format: 'uuid' },
        token: { type: 'string', description: 'The app key or site: the RFC5424 HOSTNAME and the Logplex-Drain-Token of what the drain sends.' },
        updated_at: timestamp,
        url: { type: 'string', description: 'As the user wrote it (trimmed).' },
      },
    },
    DrainList: { type: 'array', items: ref('Drain'), description: 'Oldest first.' },
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
    DlqList: {
      type: 'object',
      required: ['count', 'items'],
      properties: {
        count: { type: 'integer', minimum: 0, description: 'Lines matching the filters (not only those returned).' },
        items: { type: 'array', items: ref('DlqEntry'), description: 'Oldest first.' },
      },
    },
    DlqSelector: {
      type: 'object',
      description: 'Which DLQ lines: the filters combine; `{"all": true}` selects every line. The same keys work as query parameters.',
      properties: {
        id: {
          oneOf: [
            { type: 'string', pattern: '^[0-9]{1,18}$' },
            { type: 'integer', minimum: 0 },
          ],
        },
        ids: {
          type: 'array',
          items: {
            oneOf: [
              { type: 'string', pattern: '^[0-9]{1,18}$' },
              { type: 'integer', minimum: 0 },
            ],
          },
        },
        drain: { type: 'string', format: 'uuid' },
        app: { type: 'string', minLength: 1 },
        all: { type: 'boolean' },
      },
    },
    LogSpecRequest: {
      type: 'object',
      description: 'A fluentd-shaped LogSpec from the Akkeris controller; only platform sources (`akkeris/<name>`) are accepted.',
      required: ['log', 'kubernetes', 'topic'],
      properties: {
        log: {
          type: 'string',
          minLength: 1,
          description: 'Not blank, at most 100,000 bytes. The other strings: at most 256 characters (else 422 naming the field).',
        },
        stream: { type: 'string', enum: ['stdout', 'stderr'] },
        time: { type: 'string', format: 'date-time', description: 'RFC3339; default now.' },
        docker: { type: 'object', properties: { container_id: { type: 'string', maxLength: 256 } } },
        kubernetes: {
          type: 'object',
          required: ['container_name', 'pod_name'],
          properties: {
            container_name: { type: 'string', pattern: '^[a-z0-9]+$', maxLength: 256, description: 'The app name.' },
            pod_name: { type: 'string', pattern: '^akkeris/[a-z0-9._-]+$', maxLength: 256, examples: ['akkeris/event'] },
            namespace_name: { type: 'string', maxLength: 256 },
            pod_id: { type: 'string', maxLength: 256 },
            host: { type: 'string', maxLength: 256 },
            labels: { type: 'object', properties: { name: { type: 'string', maxLength: 256 } } },
          },
        },
        topic: {
          type: 'string',
          pattern: '^[a-zA-Z0-9.-][a-zA-Z0-9._-]{0,248}$',
          not: { enum: [BUILD_TOPIC, ROUTER_TOPIC] },
          description:
            'The space: a Kafka topic that already exists (else 422; no topic is created). The platform topics `alamobuildlogs` and `alamoweblogs` are not spaces (422).',
        },
        tag: { type: 'string', maxLength: 256 },
      },
    },
    LogSpec: {
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
    },
    BuildResult: {
      type: 'object',
      required: ['build', 'lines'],
      properties: {
        build: {
          type: 'object',
          required: ['id', 'status', 'output_stream_url'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            status: { type: 'string', enum: ['queued', 'pending', 'succeeded', 'failed'] },
            output_stream_url: { type: 'string', format: 'uri' },
          },
        },
        lines: { type: 'array', items: { type: 'string' }, description: 'Build output, Akkeris-stripped (no ARG steps, no ` ---> ` lines, no blanks).' },
      },
    },
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
  };
}

/** The document for a node with this configuration (the limits it states are the node's own). */
export function openApiDocument(cfg: OpenApiConfig): OpenApiDocument {
  const authed: Responses = { '401': E.unauthorized, '500': E.internal };
  const appRoute: Responses = { ...authed, '400': E.badPath, '404': E.notFoundApp, '503': E.unavailable('PostgreSQL') };
  const siteRoute: Responses = { ...authed, '400': E.badPath, '404': error('`The specified site <site> does not exist.` (not a valid host name).') };

  const logSessionCreate = (owner: 'app' | 'site'): Operation => ({
    tags: ['log sessions'],
    operationId: owner === 'app' ? 'createAppLogSession' : 'createSiteLogSession',
    summary: owner === 'app' ? "Create a log session for an app's lines" : "Create a log session for a site's router lines",
    parameters: [owner === 'app' ? appParam() : siteParam()],
    requestBody: { required: true, content: json(ref('LogSessionRequest')) },
    responses: {
      ...(owner === 'app' ? appRoute : siteRoute),
      ...bodyErrors,
      '201': ok('The session; open `logplex_url` within 5 minutes.', ref('LogSession')),
      '422': E.unprocessable,
      // An app this node does not know yet is looked for in its space topic's retained lines, a Kafka read-back.
      ...(owner === 'app'
        ? {
            '429': error('Too many Kafka read-backs are running on this node (looking for an app not yet known); retry later.', {
              'Retry-After': { description: 'Seconds to wait before asking again.', schema: { type: 'integer', minimum: 0 } },
            }),
          }
        : {}),
    },
  });

  const drainOps = (owner: 'app' | 'site'): Record<string, PathItem> => {
    const base = owner === 'app' ? '/apps/{app}/log-drains' : '/sites/{site}/log-drains';
    const param = owner === 'app' ? appParam() : siteParam();
    const ownerErrors = owner === 'app' ? appRoute : { ...siteRoute, '503': E.unavailable('PostgreSQL') };
    const Cap = owner === 'app' ? 'App' : 'Site';
    const notFoundDrain = error(`\`The specified log drain <id> does not exist.\`, or the ${owner} does not exist.`);
    return {
      [base]: {
        parameters: [param],
        post: {
          tags: ['log drains'],
          operationId: `create${Cap}LogDrain`,
          summary: `Add a log drain to the ${owner}`,
          requestBody: { required: true, content: json(ref('DrainRequest')) },
          responses: {
            ...ownerErrors,
            ...bodyErrors,
            '201': {
              ...ok('The drain.', ref('Drain')),
              // Lets a client (and schemathesis's stateful phase) follow a created drain to its own routes.
              links: Object.fromEntries(
                (['get', 'delete'] as const).map((verb) => [
                  `${verb === 'get' ? 'Get' : 'Delete'}${Cap}LogDrain`,
                  { operationId: `${verb}${Cap}LogDrain`, parameters: { [owner]: `$request.path.${owner}`, id: '$response.body#/id' } },
                ]),
              ),
            },
            '400': error(
              'No `url` (`The request did not include a "url" parameter.`), a duplicate url (trimmed, case-insensitive), or a body that is not JSON.',
            ),
            '422': error(
              `Unsupported scheme, bad host or port, a refused destination, or \`maximum number of drains reached\` (${cfg.maxDrainsPerApp} per ${owner}).`,
            ),
          },
        },
        get: {
          tags: ['log drains'],
          operationId: `list${Cap}LogDrains`,
          summary: `The ${owner}'s log drains`,
          responses: { ...ownerErrors, '200': ok('Oldest first.', ref('DrainList')) },
        },
      },
      [`${base}/{id}`]: {
        parameters: [param, drainIdParam],
        get: {
          tags: ['log drains'],
          operationId: `get${Cap}LogDrain`,
          summary: 'One log drain',
          responses: { ...ownerErrors, '200': ok('The drain.', ref('Drain')), '404': notFoundDrain, '409': error('The token names more than one drain.') },
        },
        delete: {
          tags: ['log drains'],
          operationId: `delete${Cap}LogDrain`,
          summary: 'Remove a log drain (its DLQ lines go with it)',
          responses: {
            ...ownerErrors,
            '200': ok('The deleted drain.', ref('Drain')),
            '404': notFoundDrain,
            '409': error('The token names more than one drain.'),
          },
        },
      },
    };
  };

  const dlqQuery: Parameter[] = [
    { name: 'drain', in: 'query', schema: { type: 'string', format: 'uuid' }, description: 'A drain id; not a uuid → 422.' },
    { name: 'app', in: 'query', schema: { type: 'string', minLength: 1 }, description: 'An app key or site.' },
    {
      name: 'id',
      in: 'query',
      schema: { type: 'string', pattern: '^[0-9]{1,18}(,[0-9]{1,18})*$' },
      description: 'DLQ line ids, comma-separated; not a positive integer → 422.',
    },
    { name: 'ids', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,18}(,[0-9]{1,18})*$' }, description: 'Same as `id`.' },
  ];
  const dlqChange = (verb: 'retry' | 'discard'): Operation => ({
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
        {
          type: 'object',
          required: [verb === 'retry' ? 'retried' : 'discarded'],
          properties: { [verb === 'retry' ? 'retried' : 'discarded']: { type: 'integer', minimum: 0 } },
        },
      ),
      '400': error(
        `Nothing selected (\`The request did not say which lines to ${verb}: give "id", "ids", "drain" or "app" (or "all": true).\`), or a body that is not JSON.`,
      ),
      '422': error('A selector is not valid (id not a positive integer, drain not a uuid, empty app).'),
      '503': E.unavailable('PostgreSQL'),
    },
  });

  const text = (description: string): { schema: Schema | Ref } => ({ schema: { type: 'string', description } });

  return {
    openapi: '3.1.0',
    info: {
      title: 'logway',
      version: '1',
      description:
        'Log and metrics gateway for Akkeris/Heroku-style platforms (wire-compatible with Akkeris and the Heroku CLI). ' +
        'Every response carries `X-Request-Id` (echoed when given and well-formed, else generated). Errors are `{"id","message"}`. ' +
        'When `UPSTREAM_URL` is set, requests logway does not own are proxied to the Akkeris controller (503 when it cannot be reached).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: cfg.publicUrl }],
    security: [{ apiKey: [] }, { bearer: [] }],
    tags: [
      { name: 'log sessions' },
      { name: 'log drains' },
      { name: 'dead-letter queue' },
      { name: 'builds' },
      { name: 'events' },
      { name: 'metrics' },
      { name: 'operations', description: "logway's own health, metrics and this document (unauthenticated)." },
    ],
    paths: {
      '/apps': {
        get: {
          tags: ['log sessions'],
          operationId: 'listApps',
          summary: 'The apps logway knows, most recently seen first (the web console app list)',
          description:
            'Apps are learned from the log stream; `last_seen_at` is when a node last saw a line of the app (recorded at most once a minute per node). ' +
            'With `UPSTREAM_URL` set, the request is proxied to the Akkeris controller (`aka apps`).',
          parameters: [
            { name: 'q', in: 'query', schema: { type: 'string' }, description: 'Part of the app key (case-insensitive substring).' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 }, description: 'Not 1..1000 → 422.' },
          ],
          responses: {
            ...authed,
            '200': ok('The apps.', { type: 'array', items: ref('AppSeen') }),
            '422': error('`limit` is not valid.'),
            '503': E.unavailable('PostgreSQL'),
          },
        },
      },
      '/apps/{app}': {
        get: {
          tags: ['log sessions'],
          operationId: 'getApp',
          summary: 'The app, for the Heroku CLI',
          description:
            'With `UPSTREAM_URL` set, logway answers only the Heroku CLI (`Accept: application/vnd.heroku+json`) for apps it knows; ' +
            'every other request is proxied to the Akkeris controller, which then owns the answer.',
          parameters: [appParam()],
          responses: { ...appRoute, '200': ok('The app.', ref('App')) },
        },
      },
      '/apps/{app}/log-sessions': { post: logSessionCreate('app') },
      '/sites/{site}/log-sessions': { post: logSessionCreate('site') },
      '/log-sessions/{token}': {
        get: {
          tags: ['log sessions'],
          operationId: 'openLogSession',
          summary: 'The stream (`logplex_url`): history, then live lines with `tail`',
          description:
            'Unauthenticated: the signed token is the session. `Accept: text/event-stream` → SSE (`id:` resume cursor, `data:` line, ' +
            '`: keepalive`, a `retry:` hint); `?format=json` or `Accept: application/x-ndjson` → NDJSON; otherwise text/plain. ' +
            'A stream lives at most `MAX_STREAM_SECONDS`, then ends cleanly.',
          security: [],
          parameters: [
            { name: 'token', in: 'path', required: true, schema: { type: 'string', minLength: 1 }, description: 'The signed session token.' },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'ndjson'] }, description: 'NDJSON (wins over `Accept`).' },
            {
              name: 'Last-Event-ID',
              in: 'header',
              schema: { type: 'string' },
              description: 'SSE resume cursor of this session (any other is ignored); resumes after it without replaying history.',
            },
          ],
          responses: {
            '200': {
              description: 'The lines, streamed (chunked).',
              headers: requestIdHeader,
              content: {
                'text/plain': text('`2018-03-24T01:07:20.123Z app-space app[web.1562910588-cg82f]: message` per line (what `aka` reads).'),
                'text/event-stream': text('SSE (what the Heroku CLI reads).'),
                'application/x-ndjson': { schema: ref('LogLineRecord') },
              },
            },
            '400': E.badPath,
            '404': error('`The specified log session was not found or has expired.` (expired, tampered or malformed token).'),
            '429': error('A limit of this node was reached: open streams for this app or site (`MAX_STREAMS_PER_APP`), or concurrent Kafka read-backs.', {
              'Retry-After': { description: 'Seconds to wait before opening the stream again.', schema: { type: 'integer', minimum: 0 } },
            }),
            '500': E.internal,
            '503': E.unavailable('Kafka'),
          },
        },
      },
      ...drainOps('app'),
      ...drainOps('site'),
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
              schema: { type: 'integer', minimum: 0, maximum: 1000, default: 100 },
              description: '0 is a count; not 0..1000 → 422.',
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
      '/apps/{app}/builds/{id}/result': {
        get: {
          tags: ['builds'],
          operationId: 'getBuildResult',
          summary: "A build's result and output",
          parameters: [appParam(), { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'The build id.' }],
          responses: {
            ...appRoute,
            '200': ok('Streamed; a queued build has no lines yet.', ref('BuildResult')),
            '404': error('`The specified application <app> does not exist.` or `The specified build <id> was not found.` (also for a build of another app).'),
            '422': error('`The specified uuid was invalid.` (checked before the app).'),
          },
        },
      },
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
              ETag: { $ref: '#/components/headers/ETag' },
              Warning: {
                description:
                  '`110 - "Response is Stale"` when InfluxDB is down and this is the cached answer for a range that ended before the outage, served past its TTL (for at most `METRICS_STALE_SECONDS`); absent on a fresh answer.',
                schema: { type: 'string', enum: ['110 - "Response is Stale"'] },
              },
            }),
            '304': { description: 'Unchanged since the `If-None-Match` ETag.', headers: requestIdHeader },
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
            '200': ok('Snapshot.', ref('MetricsSnapshot'), { ETag: { $ref: '#/components/headers/ETag' } }),
            '304': { description: 'Unchanged since the `If-None-Match` ETag.', headers: requestIdHeader },
            '503': E.unavailable('InfluxDB or PostgreSQL'),
          },
        },
      },
      '/healthz': {
        get: {
          tags: ['operations'],
          operationId: 'healthz',
          security: [],
          responses: { '200': ok('The HTTP server runs.', ref('State')) },
        },
      },
      '/health/live': {
        get: {
          tags: ['operations'],
          operationId: 'healthLive',
          security: [],
          responses: { '200': ok('The HTTP server runs.', ref('State')) },
        },
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
          security: [],
          responses: {
            '200': {
              description: 'Prometheus text format; JSON with `Accept: application/json`.',
              headers: requestIdHeader,
              content: {
                'text/plain': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'array', items: { type: 'object' } } },
              },
            },
            '500': E.internal,
          },
        },
      },
      '/': { get: consolePage('consolePage') },
      '/console': { get: consolePage('consolePageAlias') },
      '/console/{file}': {
        get: {
          tags: ['operations'],
          operationId: 'consoleAsset',
          summary: 'A web console asset (content-hashed name, cached for a year)',
          security: [],
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', minLength: 1 } }],
          responses: {
            '200': { description: 'The asset.', headers: requestIdHeader, content: { 'text/javascript': text('Script.'), 'text/css': text('Style sheet.') } },
            '404': error('No such asset.'),
          },
        },
      },
      '/openapi.json': {
        get: {
          tags: ['operations'],
          operationId: 'openApiDocument',
          summary: 'This document',
          security: [],
          responses: { '200': ok('OpenAPI 3.1.', { type: 'object', required: ['openapi', 'info', 'paths'] }) },
        },
      },
    },
    components: {
      schemas: schemas(cfg),
      headers: {
        'X-Request-Id': {
          description: 'The request id (echoed when given and well-formed, else generated); in every log line about the request.',
          schema: { type: 'string' },
        },
        ETag: { description: 'Strong ETag of the body; send it back in If-None-Match for a 304.', schema: { type: 'string' } },
      },
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'One of `API_KEYS`, raw (what `aka` sends with `API_AUTH`).',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'API key or JWT',
          description: '`Bearer <api key>` (the Heroku CLI) or `Bearer <JWT>` (HS256/RS256, `exp` required; `aud`/`iss` checked when configured).',
        },
      },
    },
  };
}
