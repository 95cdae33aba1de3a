/**
 * The published API contract (docs/design.md §3): GET /openapi.json, unauthenticated, assembled from
 * the fragment beside each route family (routes/*.openapi.ts, lib/console.openapi.ts). The limits it
 * states come from the same Config the routes enforce (MAX_SESSION_LINES, MAX_FILTER_LENGTH, ...).
 * spec/integration/openapi.spec.ts validates real responses against it, scripts/schemathesis fuzzes a
 * running node with it, and cli/ and web/ use the types generated from it (scripts/openapi-types.ts).
 *
 * Keep it true: a route that gains a status code, a parameter or a body field gains it in its fragment too.
 */
import { Router } from 'express';
import type { Core } from '../lib/core';
import { consoleAssetNames } from '../lib/console';
import { consoleOpenApi } from '../lib/console.openapi';
import { assembleDocument } from '../lib/openapi/assemble';
import { ok } from '../lib/openapi/common';
import type { Fragment, OpenApiConfig, OpenApiDocument } from '../lib/openapi/types';
import { appsOpenApi } from './apps.openapi';
import { buildsOpenApi } from './builds.openapi';
import { dlqOpenApi } from './dlq.openapi';
import { healthOpenApi } from './health.openapi';
import { logDrainsOpenApi } from './log-drains.openapi';
import { logEventsOpenApi } from './log-events.openapi';
import { logSessionsOpenApi } from './log-sessions.openapi';
import { metricsOpenApi } from './metrics.openapi';

export type { OpenApiConfig, OpenApiDocument } from '../lib/openapi/types';

const openApiFragment: Fragment = {
  paths: {
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
};

export interface OpenApiOptions {
  /** The console assets this node serves (default none: the file parameter then states only the names' form). */
  consoleFiles?: string[];
}

/** The document for a node with this configuration (the limits it states are the node's own). */
export function openApiDocument(cfg: OpenApiConfig, opts: OpenApiOptions = {}): OpenApiDocument {
  return assembleDocument(cfg, [
    appsOpenApi(),
    logSessionsOpenApi(cfg),
    logDrainsOpenApi(cfg),
    dlqOpenApi(),
    buildsOpenApi(),
    logEventsOpenApi(),
    metricsOpenApi(),
    healthOpenApi(),
    consoleOpenApi(opts.consoleFiles ?? []),
    openApiFragment,
  ]);
}

export function openApiRouter(core: Core): Router {
  const router = Router();
  // Built once: it depends only on the configuration and the console build.
  const body = JSON.stringify(openApiDocument(core.config, { consoleFiles: consoleAssetNames() }));
  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.send(body);
  });
  return router;
}
