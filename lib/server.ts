/**
 * Runs a logway node: migrations, features, HTTP(S) listener, graceful shutdown. Which features and
 * routers the node has is the composition root's choice (bin/wiring.ts startServer).
 */
import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import { closeCore, Core, Feature } from './core';
import { migrate } from './migrate';

export interface RunningServer {
  core: Core;
  server: http.Server;
  port: number;
  stop(): Promise<void>;
}

export interface NodeWiring {
  /** Built after the migrations ran. */
  features(): Feature[];
  /** The request handler serving those features (built after they started). */
  app(features: Feature[]): http.RequestListener;
}

export async function runNode(core: Core, wiring: NodeWiring): Promise<RunningServer> {
  const { config } = core;
  const log = core.logger;
  const applied = await migrate(core.db);
  if (applied.length) log.info({ applied }, 'migrations applied');
  const features = wiring.features();
  for (const f of features) {
    if (f.start) {
      await f.start();
      log.info({ feature: f.name }, 'feature started');
    }
  }
  const app = wiring.app(features);
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
