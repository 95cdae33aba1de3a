/**
 * The composition root: which features a logway node has and which routers serve them. The arrows
 * run one way — bin/ → routes/ → drains/ → lib/ — so a slice in lib/ never imports its own HTTP
 * routes or the drains (spec/unit/architecture.spec.ts holds that). bin/server and the
 * integration tests both wire nodes here.
 */
import { Router } from 'express';
import type { Express } from 'express';
import type { Config } from '../lib/config';
import { createCore, Core, Feature } from '../lib/core';
import { buildApp, AppOptions } from '../lib/app';
import { consoleRouter } from '../lib/console';
import { createUpstreamProxy } from '../lib/proxy';
import { runNode, RunningServer } from '../lib/server';
import { createTailFeature, TailFeature, TailFeatureOptions } from '../lib/tail/feature';
import { withTailStreams } from '../lib/tail/stream-route';
import { createMetricsFeature, MetricsFeature, MetricsFeatureOptions } from '../lib/metrics';
import { createBuildsFeature, BuildsFeature, BuildsFeatureOptions } from '../lib/builds/feature';
import { createLogEventsFeature, LogEventsFeature } from '../lib/events';
import { createDrainsFeature, DrainsFeature, DrainsOptions } from '../drains/feature';
import { healthRouter } from '../routes/health';
import { openApiRouter } from '../routes/openapi';
import { appsRouter } from '../routes/apps';
import { logSessionsRouter } from '../routes/log-sessions';
import { metricsRouter } from '../routes/metrics';
import { buildsRouter } from '../routes/builds';
import { logEventsRouter } from '../routes/log-events';
import { logDrainsRouter } from '../routes/log-drains';
import { dlqRouter } from '../routes/dlq';

export type { RunningServer } from '../lib/server';

export interface FeaturesOptions {
  tail?: TailFeatureOptions;
  drains?: DrainsOptions;
  metrics?: MetricsFeatureOptions;
  builds?: BuildsFeatureOptions;
}

/** Every slice of logway, wired from one Core, each with its router. */
export function createFeatures(core: Core, opts: FeaturesOptions = {}): Feature[] {
  const features: Feature[] = [
    createTailFeature(core, opts.tail),
    createDrainsFeature(core, opts.drains),
    createMetricsFeature(core, opts.metrics),
    createBuildsFeature(core, opts.builds),
    createLogEventsFeature(core),
  ];
  for (const f of features) f.router = routerFor(core, f);
  return features;
}

type Slice = TailFeature | DrainsFeature | MetricsFeature | BuildsFeature | LogEventsFeature;

function joined(...routers: Router[]): Router {
  const router = Router();
  for (const r of routers) router.use(r);
  return router;
}

/** The routes that serve a feature: its own router if it brings one, else those of its slice. */
export function routerFor(core: Core, feature: Feature): Router | undefined {
  if (feature.router) return feature.router;
  const f = feature as Slice;
  switch (f.name) {
    case 'tail':
      return joined(
        appsRouter(core),
        logSessionsRouter(core, {
          createSession: f.createSession,
          openStream: f.openStream,
          sessionTarget: f.sessionTarget,
          revokeSession: f.revokeSession,
          maxLines: core.config.maxSessionLines,
        }),
      );
    case 'drains':
      return joined(logDrainsRouter(core, f.store), dlqRouter(core, f.dlq));
    case 'metrics':
      return metricsRouter(core, f.service);
    case 'builds':
      return buildsRouter(core, f.store, { pageSize: f.pageSize });
    case 'log-events':
      return logEventsRouter(core, f.spaces);
    default:
      return undefined;
  }
}

/** The Express app of a node: health, the OpenAPI document and the console, then each feature's routes. */
export function createApp(core: Core, features: Feature[], opts: AppOptions = {}): Express {
  const routers = [healthRouter(core), openApiRouter(core), consoleRouter()];
  for (const f of features) {
    const r = routerFor(core, f);
    if (r) routers.push(r);
  }
  return buildApp(core, routers, opts);
}

/** A full node: every feature (or the given ones), behind the upstream proxy when UPSTREAM_URL is set. */
export function startServer(config: Config, opts: { core?: Core; features?: FeaturesOptions } = {}): Promise<RunningServer> {
  const core = opts.core ?? createCore(config);
  const fallback = config.upstreamUrl ? createUpstreamProxy(config.upstreamUrl, core.logger) : undefined;
  return runNode(core, {
    features: () => createFeatures(core, opts.features),
    // The logplex_url stream is served ahead of Express: an open stream then costs less memory (lib/tail/stream-route).
    app: (features) => withTailStreams(core, features, createApp(core, features, { fallback })),
  });
}
