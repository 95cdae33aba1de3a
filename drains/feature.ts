/** The drains slice of logway: the drain and DLQ API, and the drain worker (start/stop). */
import { Router } from 'express';
import type { Core, Feature } from '../lib/core';
import { logDrainsRouter } from '../routes/log-drains';
import { dlqRouter } from '../routes/dlq';
import { RetryPolicy } from './backoff';
import { DlqStore } from './dlq';
import { drainMetrics } from './metrics';
import { DrainStore } from './store';
import { DEFAULT_WORKER_OPTIONS, DrainWorker, WorkerOptions } from './worker';

export interface DrainsOptions extends Partial<Omit<WorkerOptions, 'retry'>> {
  /** false: serve the API only (no consumer on this node). Default true. */
  worker?: boolean;
  /** Backoff base/cap and attempts per batch (the per-drain retry budget). */
  retry?: Partial<RetryPolicy>;
}

export interface DrainsFeature extends Feature {
  store: DrainStore;
  dlq: DlqStore;
  /** Present when the worker runs on this node. */
  worker?: DrainWorker;
}

export function createDrainsFeature(core: Core, opts: DrainsOptions = {}): DrainsFeature {
  const store = new DrainStore(core.db);
  const dlq = new DlqStore(core.db, { maxRowsPerDrain: core.config.maxDlqRowsPerDrain });
  const metrics = drainMetrics(core.prom.registry);
  // Both DLQ gauges collect on the same scrape: they share one count query (kept for a second).
  let dlqCount: { at: number; rows: ReturnType<DlqStore['countByDrain']> } | null = null;
  metrics.dlqCounter = () => {
    if (!dlqCount || Date.now() - dlqCount.at > 1000) {
      const rows = dlq.countByDrain();
      rows.catch(() => (dlqCount = null));
      dlqCount = { at: Date.now(), rows };
    }
    return dlqCount.rows;
  };

  const { worker: runWorker = true, retry, ...rest } = opts;
  const workerOpts: WorkerOptions = {
    ...DEFAULT_WORKER_OPTIONS,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    retry: { ...DEFAULT_WORKER_OPTIONS.retry, ...(retry ?? {}) },
  };
  const worker = runWorker ? new DrainWorker(core, store, dlq, metrics, workerOpts) : undefined;

  const router = Router();
  router.use(logDrainsRouter(core, store));
  router.use(dlqRouter(core, dlq));

  return {
    name: 'drains',
    router,
    store,
    dlq,
    worker,
    async start() {
      await worker?.start();
    },
    async stop() {
      await worker?.stop();
    },
  };
}
