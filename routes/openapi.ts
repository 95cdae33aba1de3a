/** GET /openapi.json: the published API contract (lib/openapi.ts), unauthenticated. */
import { Router } from 'express';
import type { Core } from '../lib/core';
import { openApiDocument } from '../lib/openapi';

export function openApiRouter(core: Core): Router {
  const router = Router();
  // Built once: it depends only on the configuration.
  const body = JSON.stringify(openApiDocument(core.config));
  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.send(body);
  });
  return router;
}
