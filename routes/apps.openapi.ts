/** The contract of routes/apps.ts: GET /apps (the console's app list) and GET /apps/{app} (the Heroku CLI's app object). */
import { appParam, appRoute, authed, E, error, ok, ref } from '../lib/openapi/common';
import type { Fragment } from '../lib/openapi/types';
import { APPS_DEFAULT_LIMIT, APPS_MAX_LIMIT } from './apps';

export function appsOpenApi(): Fragment {
  return {
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
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: APPS_MAX_LIMIT, default: APPS_DEFAULT_LIMIT },
              description: `Not 1..${APPS_MAX_LIMIT} → 422.`,
            },
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
    },
    schemas: {
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
    },
  };
}
