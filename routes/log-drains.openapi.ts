/** The contract of routes/log-drains.ts: an app's or a site's log drains. */
import { appParam, appRoute, bodyErrors, E, error, json, ok, ref, siteParam, siteRoute, timestamp } from '../lib/openapi/common';
import type { Fragment, OpenApiConfig, Parameter, PathItem, Schema } from '../lib/openapi/types';

const drainIdParam: Parameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409.',
  schema: { type: 'string', minLength: 1 },
};

/**
 * drains/url.ts parseDrainUrl: a supported scheme (any case), something after `//`, no control character;
 * blanks around it are trimmed. The host, port and destination checks are the 422s the description lists.
 */
const DRAIN_URL_PATTERN =
  '^\\s*(?:[sS][yY][sS][lL][oO][gG](?:\\+(?:[tT][cC][pP]|[tT][lL][sS]|[uU][dD][pP]))?|[hH][tT][tT][pP][sS]?)://[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$';

const drainRequest: Schema = {
  type: 'object',
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      minLength: 1,
      maxLength: 2048,
      pattern: DRAIN_URL_PATTERN,
      description:
        'syslog://, syslog+tcp://, syslog+tls:// (`#insecure` skips certificate checks), syslog+udp:// (host:port required), http://, https://. ' +
        'Missing → 400 `The request did not include a "url" parameter.`; unsupported scheme, bad host or port, or a refused destination ' +
        '(loopback, link-local, metadata, unspecified, multicast, private unless allowed; checked on the resolved addresses) → 422.',
      examples: ['https://user:secret@192.0.2.10/logs', 'syslog+tls://198.51.100.7:6514', 'syslog+tls://logs.example.com:6514'],
    },
  },
};

const drain: Schema = {
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
};

function drainPaths(cfg: OpenApiConfig, owner: 'app' | 'site'): Record<string, PathItem> {
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
          '400': error('No `url` (`The request did not include a "url" parameter.`), a duplicate url (trimmed, case-insensitive), or a body that is not JSON.'),
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
}

export function logDrainsOpenApi(cfg: OpenApiConfig): Fragment {
  return {
    paths: { ...drainPaths(cfg, 'app'), ...drainPaths(cfg, 'site') },
    schemas: {
      DrainRequest: drainRequest,
      Drain: drain,
      DrainList: { type: 'array', items: ref('Drain'), description: 'Oldest first.' },
    },
  };
}
