/**
 * What every fragment of the API contract shares: the error answer (lib/errors.ts), the answers the
 * common plumbing can give (lib/http.ts), the app and site path parameters, and the schemas more
 * than one route family returns.
 */
import type { Header, Parameter, Ref, Response, Responses, Schema } from './types';

export const ref = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Schema | Ref) => ({ 'application/json': { schema } });
export const text = (description: string): { schema: Schema } => ({ schema: { type: 'string', description } });
export const timestamp: Schema = { type: 'string', format: 'date-time' };
export const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };

/** An error answer: `{id, message}` (lib/errors.ts), `id` fixed per status. */
export function error(description: string, extraHeaders: Record<string, Header | Ref> = {}): Response {
  return { description, headers: { ...requestIdHeader, ...extraHeaders }, content: json(ref('Error')) };
}

export function ok(description: string, schema: Schema | Ref, headers: Record<string, Header | Ref> = {}): Response {
  return { description, headers: { ...requestIdHeader, ...headers }, content: json(schema) };
}

/** Every answer the common plumbing can give (lib/http.ts): bad path encoding, auth, internal errors. */
export const E = {
  badPath: error('Bad request: a path parameter is not valid percent-encoding.'),
  badBody: error('Bad request: the body is not valid JSON (`The request body was not valid JSON.`), or a required field is missing.'),
  unauthorized: error('No valid API key or token in `Authorization`.'),
  forbidden: error(
    'A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write.',
  ),
  tooLarge: error('The request body is larger than 1 MB.'),
  unsupportedMedia: error('The body uses a charset or content encoding that cannot be read.'),
  notFoundApp: error('`The specified application <app> does not exist.`'),
  unprocessable: error('Validation failed; the message says which field and why.'),
  internal: error('Internal server error (never a stack trace).'),
  unavailable: (what: string) => error(`A backend is down (${what}); the message names it, not its address.`),
};

export const bodyErrors: Responses = { '400': E.badBody, '413': E.tooLarge, '415': E.unsupportedMedia };
/** Any authenticated route. */
export const authed: Responses = { '401': E.unauthorized, '403': E.forbidden, '500': E.internal };
/** A route under /apps/{app}: the app is looked up in PostgreSQL. */
export const appRoute: Responses = { ...authed, '400': E.badPath, '404': E.notFoundApp, '503': E.unavailable('PostgreSQL') };
/** A route under /sites/{site}: any valid host name is a site (lib/sites.ts). */
export const siteRoute: Responses = {
  ...authed,
  '400': E.badPath,
  '404': error('`The specified site <site> does not exist.` (not a valid host name).'),
};

/** The app and space the examples name; scripts/schemathesis seeds them, so the fuzzer reaches a real app. */
export const EXAMPLE_SPACE = 'docs';
export const EXAMPLE_APP = 'api';
export const EXAMPLE_APP_KEY = `${EXAMPLE_APP}-${EXAMPLE_SPACE}`;

export function appParam(): Parameter {
  return {
    name: 'app',
    in: 'path',
    required: true,
    description: `The app key (\`app-space\`, e.g. \`${EXAMPLE_APP_KEY}\`) or the app id (a uuid).`,
    schema: { type: 'string', minLength: 1, examples: [EXAMPLE_APP_KEY] },
  };
}

/** lib/sites.ts SITE: RFC 1123 host name, labels of 1–63 letters, digits and inner hyphens. */
export const SITE_PATTERN = '^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$';

export function siteParam(): Parameter {
  return {
    name: 'site',
    in: 'path',
    required: true,
    description: 'A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.`',
    schema: { type: 'string', minLength: 1, maxLength: 253, pattern: SITE_PATTERN, examples: ['www.example.com'] },
  };
}

/** Schemas more than one route family returns. */
export const sharedSchemas: Record<string, Schema> = {
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
};

export const componentHeaders: Record<string, Header> = {
  'X-Request-Id': {
    description: 'The request id (echoed when given and well-formed, else generated); in every log line about the request.',
    schema: { type: 'string' },
  },
  ETag: { description: 'Strong ETag of the body; send it back in If-None-Match for a 304.', schema: { type: 'string' } },
};

export const securitySchemes: Record<string, Schema> = {
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
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: '`Bearer <METRICS_TOKEN>`, for `/metrics` only (an API key does not open it). Required in production.',
  },
};
