/**
 * A drain worker in its own process, for the crash test (SIGKILL mid-delivery, then a fresh one).
 * Config: JSON in DRAIN_WORKER_CONFIG (DrainsOptions with topic names as strings; `processes` > 0 runs the
 * worker in that many drain worker processes under this one, as a node with DRAIN_WORKERS does). Prints `ready`
 * once started; SIGTERM stops it cleanly. DRAIN_WORKER_HTTP=1: also answers GET /health/live on a
 * free port (printed as `http <port>`), so a benchmark can time this process's event loop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeCore } from '../../lib/core';
import { createDrainsFeature, DrainsOptions } from '../../drains/feature';
import { createTestCore } from './env';

async function main(): Promise<void> {
  const opts = JSON.parse(process.env.DRAIN_WORKER_CONFIG ?? '{}') as DrainsOptions;
  const core = createTestCore();
  const feature = createDrainsFeature(core, opts);
  await feature.start?.();
  if (process.env.DRAIN_WORKER_HTTP === '1') {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    server.unref();
    process.stdout.write(`http ${(server.address() as AddressInfo).port}\n`);
  }
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void (async () => {
      await feature.stop?.();
      await closeCore(core);
      process.exit(0);
    })();
  });
}

main().catch((e) => {
  process.stderr.write(`drain worker failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
