/** Starts a full logway node: migrations, features, HTTP(S) listener, graceful shutdown. */
import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import { Config } from './config';
import { createCore, closeCore, Core, Feature } from './core';
import { createApp } from './app';
import { createFeatures, FeaturesOptions } from './features';
import { migrate } from './migrate';
import { createUpstreamProxy } from './proxy';

export interface RunningServer {
  core: Core;
  server: http.Server;
  port: number;
  stop(): Promise<void>;
}

export async function startServer(config: Config, opts: { core?: Core; features?: FeaturesOptions } = {}): Promise<RunningServer> {
  const core = opts.core ?? createCore(config);
  const log = core.logger;
  const applied = await migrate(core.db);
  if (applied.length) log.info({ applied }, 'migrations applied');
  const features: Feature[] = createFeatures(core, opts.features);
  for (const f of features) {
    if (f.start) {
      await f.start();
      log.info({ feature: f.name }, 'feature started');
    }
  }
  const app = createApp(core, features, { fallback: config.upstreamUrl ? createUpstreamProxy(config.upstreamUrl, core.logger) : undefined });
  const server = config.tls ? https.createServer({ cert: config.tls.cert, key: config.tls.key }, app) : http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, tls: Boolean(config.tls), public_url: config.publicUrl }, 'logway listening');

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info('shutting down');
      // Stop accepting; idle keep-alive sockets close now, streams get ended by their features.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Features are independent: stop them together so shutdown takes the slowest, not the sum.
      await Promise.all(
        features.map(async (f) => {
          if (!f.stop) return;
          const t0 = Date.now();
          await f.stop().catch((err) => log.error({ err, feature: f.name }, 'feature stop failed'));
          log.info({ feature: f.name, duration_ms: Date.now() - t0 }, 'feature stopped');
        }),
      );
      // Connections whose streams the features just ended are idle keep-alive sockets now.
      server.closeIdleConnections();
      const forced = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(forced);
      const t0 = Date.now();
      await closeCore(core);
      log.info({ duration_ms: Date.now() - t0 }, 'clients closed');
      log.info('stopped');
    })();
    return stopping;
  }
  return { core, server, port, stop };
}
