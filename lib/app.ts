/** createApp: the Express app from explicitly passed services, so tests mount it with supertest. */
import express, { Express, RequestHandler } from 'express';
import { Core, Feature } from './core';
import { requestContext, errorHandler, notFoundHandler } from './http';
import { healthRouter } from '../routes/health';
import { openApiRouter } from '../routes/openapi';
import { consoleRouter } from './console';

export interface AppOptions {
  /** What answers requests no feature owns (the upstream proxy); default: 404 JSON. */
  fallback?: RequestHandler;
}

export function createApp(core: Core, features: Feature[], opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(requestContext(core.logger, core.prom));
  app.use(healthRouter(core));
  app.use(openApiRouter(core));
  app.use(consoleRouter());
  for (const f of features) if (f.router) app.use(f.router);
  if (opts.fallback) app.use(opts.fallback);
  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}
