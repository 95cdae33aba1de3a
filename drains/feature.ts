/**
 * The drains slice of logway: the stores behind the drain and DLQ API (routes/log-drains.ts and
 * routes/dlq.ts, wired by bin/wiring.ts), and the drain worker (start/stop), either in this process
 * or, with `processes` (DRAIN_WORKERS) > 0, in that many supervised worker processes.
 */
import type { Core, Feature } from '../lib/core';
import { RetryPolicy } from './backoff';
import { DlqStore } from './dlq';
import { drainMetrics } from './metrics';
import { toTopicSpecs } from './process-messages';
import { DrainStore } from './store';
import { DEFAULT_SUPERVISOR_OPTIONS, DrainSupervisor } from './supervisor';
import { DEFAULT_WORKER_OPTIONS, DrainWorker, WorkerOptions } from './worker';

export interface DrainsOptions extends Partial<Omit<WorkerOptions, 'retry'>> {
  /** false: serve the API only (no consumer on this node). Default true. */
  worker?: boolean;
  /** Backoff base/cap and attempts per batch (the per-drain retry budget). */
  retry?: Partial<RetryPolicy>;
  /** Drain worker processes (default DRAIN_WORKERS); 0: the worker runs in this process. */
  processes?: number;
}

export interface DrainsFeature extends Feature {
  name: 'drains';
  store: DrainStore;
  dlq: DlqStore;
  /** Present when the worker runs in this process. */
  worker?: DrainWorker;
  /** Present when the worker runs in worker processes. */
  supervisor?: DrainSupervisor;
  /** One drain in this node's worker(s): how many have it live, its lines queued, the last error; undefined when none has it. */
  drainState(drain: string): Promise<{ workers: number; depth: number; lastError: string } | undefined>;
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

  const { worker: runWorker = true, retry, processes = core.config.drainWorkers, ...rest } = opts;
  const workerOpts: WorkerOptions = {
    ...DEFAULT_WORKER_OPTIONS,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    retry: { ...DEFAULT_WORKER_OPTIONS.retry, ...(retry ?? {}) },
  };
  const worker = runWorker && processes === 0 ? new DrainWorker(core, store, dlq, metrics, workerOpts) : undefined;
  let supervisor: DrainSupervisor | undefined;
  if (runWorker && processes > 0) {
    const { topics, tlsCa, ...plain } = workerOpts;
    supervisor = new DrainSupervisor(
      core,
      { ...plain, topics: toTopicSpecs(topics), tlsCa: tlsCa?.toString() },
      // A process gets its own stop budget, then the time to commit and close its clients.
      { ...DEFAULT_SUPERVISOR_OPTIONS, processes, stopTimeoutMs: workerOpts.stopTimeoutMs + 10_000 },
    );
    supervisor.mergeMetricsInto(core.prom);
  }

  return {
    name: 'drains',
    store,
    dlq,
    worker,
    supervisor,
    async drainState(drain) {
      if (supervisor) return supervisor.drainState(drain);
      const sender = worker?.senderOf(drain);
      return sender ? { workers: 1, depth: sender.depth, lastError: sender.lastError } : undefined;
    },
    async start() {
      await worker?.start();
      await supervisor?.start();
    },
    async stop() {
      await worker?.stop();
      await supervisor?.stop();
    },
  };
}
