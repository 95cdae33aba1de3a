/**
 * The Express app from explicitly passed routers, so tests mount it with supertest. Which routers
 * a node serves is the composition root's choice (bin/wiring.ts): nothing in lib/ imports routes/.
 */
import express, { Express, RequestHandler, Router } from 'express';
import type { Core } from './core';
import { requestContext, errorHandler, notFoundHandler } from './http';

export interface AppOptions {
  /** What answers requests no router owns (the upstream proxy); default: 404 JSON. */
  fallback?: RequestHandler;
}

export function buildApp(core: Core, routers: Router[], opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(requestContext(core.logger, core.prom));
  for (const r of routers) app.use(r);
  if (opts.fallback) app.use(opts.fallback);
  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}
