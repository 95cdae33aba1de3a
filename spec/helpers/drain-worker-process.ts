/**
 * A drain worker in its own process, for the crash test (SIGKILL mid-delivery, then a fresh one).
 * Config: JSON in DRAIN_WORKER_CONFIG (DrainsOptions with topic names as strings; `processes` > 0 runs the
 * worker in that many drain worker processes under this one, as a node with DRAIN_WORKERS does). Prints `ready`
 * once started; SIGTERM stops it cleanly.
 */
import { closeCore } from '../../lib/core';
import { createDrainsFeature, DrainsOptions } from '../../drains/feature';
import { createTestCore } from './env';

async function main(): Promise<void> {
  const opts = JSON.parse(process.env.DRAIN_WORKER_CONFIG ?? '{}') as DrainsOptions;
  const core = createTestCore();
  const feature = createDrainsFeature(core, opts);
  await feature.start?.();
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
