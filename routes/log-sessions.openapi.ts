/** The contract of routes/log-sessions.ts: create a session for an app or a site, and open its stream. */
import { appParam, appRoute, bodyErrors, E, error, json, ok, ref, siteParam, siteRoute, text, timestamp } from '../lib/openapi/common';
import { NO_CONTROL_CHARS, upTo } from '../lib/openapi/patterns';
import type { Fragment, OpenApiConfig, Operation, Schema } from '../lib/openapi/types';
import { DEFAULT_MAX_SINCE_SECONDS, MAX_SELECTOR_LENGTH, SINCE_FUTURE_SKEW_SECONDS } from '../lib/tail/params';

/** The log-session selectors' rule (lib/tail/params optionalSelector). */
const SELECTOR_RULE = `Longer than ${MAX_SELECTOR_LENGTH} characters, or with control characters → 422 naming the field.`;
const selector = (description: string): Schema => ({
  type: ['string', 'null'],
  maxLength: MAX_SELECTOR_LENGTH,
  pattern: NO_CONTROL_CHARS,
  description,
});

/** `30s`, `10m`, `2h`, `1d` no further back than maxSeconds (lib/log/filter parseSince, lib/tail/params parseSinceClaim). */
function relativeSince(maxSeconds: number): string {
  const units = [
    ['s', 1],
    ['m', 60],
    ['h', 3_600],
    ['d', 86_400],
  ] as const;
  return `^\\s*(?:${units.map(([unit, seconds]) => `${upTo(Math.floor(maxSeconds / seconds))}${unit}`).join('|')})\\s*$`;
}

function logSessionRequest(cfg: OpenApiConfig): Schema {
  const maxSinceSeconds = cfg.maxSinceSeconds ?? DEFAULT_MAX_SINCE_SECONDS;
  return {
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
          { type: 'string', pattern: `^\\s*0*${upTo(cfg.maxSessionLines, true)}\\s*$` },
        ],
      },
      tail: {
        description:
          'true: stream live lines after the history; false, null or missing: history only. ' +
          'The strings `"true"` and `"false"` are accepted from old clients; anything else → 422 `The specified tail must be a boolean (true or false).`',
        oneOf: [{ type: ['boolean', 'null'] }, { type: 'string', enum: ['true', 'false'] }],
      },
      dyno: selector('Exact dyno (`web.1562910588-cg82f`) or a process type (`web`). Heroku sends this one. ' + SELECTOR_RULE),
      dyno_name: selector('Same as `dyno` (the Akkeris API name).'),
      type: selector('Exact process type. ' + SELECTOR_RULE),
      source: selector('`app`, `akkeris/router`, `router`, or `akkeris` (every platform source). ' + SELECTOR_RULE),
      since: {
        description:
          '`30s`, `10m`, `2h`, `1d` or an RFC3339 date-time, resolved at creation. Unparseable, further back than Kafka keeps lines ' +
          `(\`MAX_SINCE_SECONDS\`, ${maxSinceSeconds} s here), or more than ${SINCE_FUTURE_SKEW_SECONDS} s ahead → 422.`,
        anyOf: [{ type: 'null' }, { type: 'string', pattern: relativeSince(maxSinceSeconds) }, { type: 'string', format: 'date-time' }],
        examples: ['10m', '2026-11-21T23:58:01Z'],
      },
      filter: {
        type: ['string', 'null'],
        maxLength: cfg.maxFilterLength,
        description:
          `A regular expression tested against each message, run by a linear-time engine. Longer than ${cfg.maxFilterLength} characters, ` +
          'not valid, or using what the engine cannot express (backreferences, lookaround) → 422.',
        examples: ['GET /health', '^(error|warn)'],
      },
    },
  };
}

function createSession(owner: 'app' | 'site'): Operation {
  return {
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
  };
}

export function logSessionsOpenApi(cfg: OpenApiConfig): Fragment {
  return {
    paths: {
      '/apps/{app}/log-sessions': { post: createSession('app') },
      '/sites/{site}/log-sessions': { post: createSession('site') },
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
              headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
              content: {
                'text/plain': text('`2018-03-24T01:07:20.123Z app-space app[web.1562910588-cg82f]: message` per line (what `aka` reads).'),
                'text/event-stream': text('SSE (what the Heroku CLI reads).'),
                'application/x-ndjson': { schema: ref('LogLineRecord') },
              },
            },
            '400': E.badPath,
            '404': error('`The specified log session was not found or has expired.` (expired, tampered or malformed token).'),
            '429': error(
              `A limit of this node was reached: open streams for this app or site (\`MAX_STREAMS_PER_APP\`, ${cfg.maxStreamsPerApp} here) or of this session (\`MAX_STREAMS_PER_SESSION\`), or concurrent Kafka read-backs.`,
              { 'Retry-After': { description: 'Seconds to wait before opening the stream again.', schema: { type: 'integer', minimum: 0 } } },
            ),
            '500': E.internal,
            '503': error(
              'Kafka is down (named, not its address), or this node is at its own limit of open streams (`MAX_STREAMS`) or of what slow streams hold (`STREAMS_BUFFER_BYTES`): another node may serve.',
              { 'Retry-After': { description: 'Seconds to wait before opening the stream again (node limits).', schema: { type: 'integer', minimum: 0 } } },
            ),
          },
        },
        delete: {
          tags: ['log sessions'],
          operationId: 'revokeLogSession',
          summary: 'Revoke a log session: its open streams end on every node, its URL answers 404',
          description:
            'Operators may revoke any session; a scoped credential (read-only included) those of the apps, spaces and sites it names. ' +
            'Idempotent: revoking again answers the first revocation time.',
          parameters: [
            {
              name: 'token',
              in: 'path',
              required: true,
              schema: { type: 'string', minLength: 1 },
              description: 'The session id (the `id` of the 201 body that created it), not the logplex_url token.',
            },
          ],
          responses: {
            '200': ok('The session is revoked.', {
              type: 'object',
              required: ['id', 'revoked_at'],
              properties: { id: { type: 'string' }, revoked_at: { type: 'string', format: 'date-time' } },
            }),
            '400': E.badPath,
            '401': E.unauthorized,
            '403': error("A scoped credential that does not name the session's app, space or site."),
            '404': error('`The specified log session was not found.` (an id logway did not mint: forged, altered or malformed).'),
            '500': E.internal,
            '503': E.unavailable('PostgreSQL'),
          },
        },
      },
    },
    schemas: {
      LogSessionRequest: logSessionRequest(cfg),
      LogSession: {
        type: 'object',
        required: ['created_at', 'id', 'logplex_url', 'updated_at'],
        properties: {
          created_at: timestamp,
          id: {
            type: 'string',
            pattern: '^[as]\\.[\\w-]{1,400}\\.[\\w-]{22}\\.[\\w-]{22}$',
            description: 'The session id: `DELETE /log-sessions/{token}` with it revokes the session. Names the app or site, signed by logway.',
          },
          logplex_url: {
            type: 'string',
            format: 'uri',
            description: '`<PUBLIC_URL>/log-sessions/<signed token>`: unauthenticated, can be opened for 5 minutes.',
          },
          updated_at: timestamp,
        },
      },
    },
  };
}
