/**
 * All cores for drains (issue 10 item 4): the node runs its drain work in DRAIN_WORKERS forked
 * processes (./process), each one member of the drains consumer group, so the server process
 * (HTTP, the tail hub) never shares its event loop with delivery. This supervisor forks them,
 * restarts a dead one with back-off (Kafka hands its partitions to the others meanwhile and back
 * after the rebalance; what it had not committed is resent, docs/design.md §3), stops them within the
 * shutdown budget, reports each one's consumer health to readiness as `consumer:drains/<n>` (with
 * the partitions it holds quarantined), and merges their Prometheus figures into this process's
 * /metrics on every scrape.
 */
import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import type { Core } from '../lib/core';
import type { PartitionQuarantine } from '../lib/dependencies';
import type { Logger } from '../lib/logger';
import type { MetricsJson, Prom } from '../lib/prom';
import { ConsumerReport, DrainState, FromWorker, ProcessWorkerOptions, ToWorker } from './process-messages';

export interface SupervisorOptions {
  processes: number;
  /** First restart delay of a dead worker process; doubles per death up to restartCapMs. */
  restartBaseMs: number;
  restartCapMs: number;
  /** A process that lived this long before dying restarts after restartBaseMs again. */
  stableMs: number;
  /** How long a stopping process may take (its own stopTimeoutMs, the commit, closing clients) before SIGKILL. */
  stopTimeoutMs: number;
  /** How long a scrape or a drain-state question waits for a process's answer. */
  askTimeoutMs: number;
}

export const DEFAULT_SUPERVISOR_OPTIONS: Omit<SupervisorOptions, 'processes' | 'stopTimeoutMs'> = {
  restartBaseMs: 500,
  restartCapMs: 30_000,
  stableMs: 30_000,
  askTimeoutMs: 2000,
};

/**
 * How figures of the same series from several processes combine (prom-client sums by default):
 * a timestamp is the latest, a dependency is up only if every process reaches it.
 */
const AGGREGATORS: Record<string, string> = {
  logway_drain_last_success_timestamp_seconds: 'max',
  logway_dependency_up: 'min',
};
/** Series the supervisor reports itself, per process (`drains/<n>`), instead of the processes' own. */
const SUPERVISOR_ONLY = new Set(['logway_kafka_consumer_up']);

/** The worker process entry: the .ts file under tsx or ts-jest, the compiled .js in dist/. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `process${ext}`);
  return ext === '.ts' ? { file, execArgv: ['--import', 'tsx'] } : { file, execArgv: process.execArgv };
}

interface Slot {
  index: number;
  child?: ChildProcess;
  startedAt: number;
  /** Deaths in a row without a stable run in between (the back-off exponent). */
  deaths: number;
  restart?: NodeJS.Timeout;
  /** The last consumer states the process reported. */
  consumers: Record<string, ConsumerReport>;
  /** Answers awaited from this process, by question id. */
  pending: Map<number, (msg: FromWorker | undefined) => void>;
}

export class DrainSupervisor {
  private slots: Slot[] = [];
  private nextId = 1;
  private stopping = false;
  private log: Logger;

  constructor(
    private core: Core,
    private workerOptions: ProcessWorkerOptions,
    private opts: SupervisorOptions,
  ) {
    this.log = core.logger.child({ component: 'drains' });
  }

  /** Forks every process and waits until each is ready or has died (a dead one keeps being restarted). */
  async start(): Promise<void> {
    this.stopping = false;
    this.slots = Array.from({ length: this.opts.processes }, (_, i) => ({
      index: i + 1,
      startedAt: 0,
      deaths: 0,
      consumers: {},
      pending: new Map(),
    }));
    await Promise.all(this.slots.map((s) => this.spawn(s)));
    this.log.info({ processes: this.opts.processes }, 'drain worker processes started');
  }

  /** Asks every process to stop (they commit what settled), SIGKILLs any still running after stopTimeoutMs. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (s) => {
        clearTimeout(s.restart);
        const child = s.child;
        if (!child || exited(child)) return;
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
        else child.kill('SIGTERM');
        const timer = setTimeout(() => {
          this.log.warn({ process: s.index, pid: child.pid }, 'drain worker process did not stop in time; killing it');
          child.kill('SIGKILL');
        }, this.opts.stopTimeoutMs);
        await gone;
        clearTimeout(timer);
      }),
    );
    for (const s of this.slots) {
      for (const name of [...Object.keys(s.consumers), 'drains']) this.core.dependencies.consumerStopped(consumerName(name, s));
      this.core.dependencies.mirrorQuarantines(processName(s), []);
    }
  }

  /** The pids of the running worker processes, by slot (0: none running). */
  pids(): number[] {
    return this.slots.map((s) => (s.child && !exited(s.child) ? (s.child.pid ?? 0) : 0));
  }

  /** One drain as the processes see it: how many have it live, its lines queued in all, the first error. */
  async drainState(drain: string): Promise<{ workers: number; depth: number; lastError: string } | undefined> {
    const answers = await Promise.all(this.slots.map((s) => this.ask(s, (id) => ({ type: 'drain', id, drain }))));
    const states = answers.flatMap((a) => (a?.type === 'drain' && a.state ? [a.state] : [])) as DrainState[];
    if (states.length === 0) return undefined;
    return {
      workers: states.length,
      depth: states.reduce((n, s) => n + s.depth, 0),
      lastError: states.find((s) => s.lastError)?.lastError ?? '',
    };
  }

  /** The processes' registries, as JSON, each adjusted for merging (what did not answer in time is left out). */
  async processMetrics(): Promise<MetricsJson[]> {
    const answers = await Promise.all(this.slots.map((s) => this.ask(s, (id) => ({ type: 'metrics', id }))));
    return answers.flatMap((a) => (a?.type === 'metrics' ? [a.metrics.filter((m) => !SUPERVISOR_ONLY.has(m.name))] : []));
  }

  /**
   * Makes this node's /metrics answer with the processes' figures merged in, on every scrape:
   * prom-client's AggregatorRegistry works for cluster workers only, so the figures come over the
   * fork's IPC channel and are merged with its aggregate().
   */
  mergeMetricsInto(prom: Prom): void {
    prom.mergeWith(async (own) => {
      const parts = [own, ...(await this.processMetrics())];
      for (const part of parts) for (const m of part) if (AGGREGATORS[m.name]) m.aggregator = AGGREGATORS[m.name] as typeof m.aggregator;
      return AggregatorRegistry.aggregate(parts);
    });
  }

  private spawn(slot: Slot): Promise<void> {
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    slot.child = child;
    slot.startedAt = Date.now();
    slot.consumers = {};
    // An IPC send to a process that just died: the exit handler deals with the death itself.
    child.on('error', (err) => this.log.debug({ process: slot.index, err: err.message }, 'drain worker process IPC error'));
    const { tls: _tls, ...config } = this.core.config;
    child.send({ type: 'start', index: slot.index, config, options: this.workerOptions } satisfies ToWorker);
    return new Promise<void>((resolve) => {
      child.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'consumers') this.consumersReported(slot, msg.consumers, msg.quarantines ?? []);
        else slot.pending.get(msg.id)?.(msg);
      });
      child.once('exit', (code, signal) => {
        resolve();
        for (const answer of slot.pending.values()) answer(undefined);
        slot.pending.clear();
        if (!this.stopping) this.died(slot, code, signal);
      });
    });
  }

  /** A process died on its own: readiness shows it until its successor's consumer runs; restart with back-off. */
  private died(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const lived = Date.now() - slot.startedAt;
    if (lived >= this.opts.stableMs) slot.deaths = 0;
    const delay = Math.min(this.opts.restartCapMs, this.opts.restartBaseMs * 2 ** slot.deaths);
    slot.deaths += 1;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    this.core.dependencies.consumerCrashed(consumerName('drains', slot), `drain worker process ${slot.index} died (${how})`, true);
    // Its quarantines died with it: its successor (or the member its partitions go to) judges them afresh.
    this.core.dependencies.mirrorQuarantines(processName(slot), []);
    this.log.warn({ process: slot.index, pid: slot.child?.pid, how, lived_ms: lived, restart_in_ms: delay }, 'drain worker process died; restarting');
    slot.restart = setTimeout(() => {
      if (!this.stopping) void this.spawn(slot);
    }, delay);
  }

  /** A process's consumer states and quarantined partitions, mirrored into this node's tracker as `<consumer>/<n>`. */
  private consumersReported(slot: Slot, consumers: Record<string, ConsumerReport>, quarantines: PartitionQuarantine[]): void {
    const deps = this.core.dependencies;
    deps.mirrorQuarantines(
      processName(slot),
      quarantines.map((q) => ({ ...q, consumer: consumerName(q.consumer, slot) })),
    );
    for (const [name, now] of Object.entries(consumers)) {
      const before = slot.consumers[name];
      const key = consumerName(name, slot);
      if (now.state === 'running') {
        if (before?.state !== 'running') deps.consumerProgressed(key);
      } else if (!before || before.state === 'running' || now.crashes > before.crashes) {
        deps.consumerCrashed(key, now.error ?? 'crashed', now.state === 'crashed');
      }
    }
    slot.consumers = consumers;
  }

  private ask(slot: Slot, question: (id: number) => ToWorker): Promise<FromWorker | undefined> {
    const child = slot.child;
    if (!child || exited(child) || !child.connected) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), this.opts.askTimeoutMs);
      const done = (msg: FromWorker | undefined) => {
        clearTimeout(timer);
        slot.pending.delete(id);
        resolve(msg);
      };
      slot.pending.set(id, done);
      try {
        child.send(question(id));
      } catch {
        done(undefined);
      }
    });
  }
}

function consumerName(name: string, slot: Slot): string {
  return `${name}/${slot.index}`;
}

/** Who reported a mirrored quarantine (DependencyTracker.mirrorQuarantines). */
function processName(slot: Slot): string {
  return `drain worker process ${slot.index}`;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
