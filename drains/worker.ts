/**
 * The drain worker (docs/design.md §3 "Guarantees"): each line parsed once and offered to each drain of
 * its app through that drain's sender; offsets committed only once every drain of every earlier
 * line acknowledged it or parked it in the DLQ. Its parts: lib/kafka/source (the Kafka consumer),
 * ./dispatch (dispatch, backpressure, commits), ./registry (drains and transports), ./dlq-pump.
 */
import type { Core } from '../lib/core';
import type { Logger } from '../lib/logger';
import { isLogTopic } from '../lib/log/parse';
import { LogLineReader, LogSource, sourceMetrics } from '../lib/kafka';
import { DEFAULT_RETRY, RetryPolicy } from './backoff';
import { DestinationPolicy } from './destination';
import { Dispatcher, sleep } from './dispatch';
import { DlqPump } from './dlq-pump';
import { DlqStore } from './dlq';
import { PgListener } from './listener';
import { DepthSource, DrainMetrics } from './metrics';
import { Parker } from './parker';
import { DrainRegistry } from './registry';
import type { DrainSender } from './sender';
import type { DrainStore } from './store';

export const DRAINS_CHANNEL = 'logway_drains';

export interface WorkerOptions {
  /** Kafka consumer group shared by every logway node. */
  groupId: string;
  /** Topics to read (exact names or patterns); default every log topic (not starting with `_`). */
  topics?: (string | RegExp)[];
  /**
   * Where a brand-new group (no committed offset at all) starts: false (default) = at the end of
   * the topics that exist then (a new deployment does not replay retention); true = their start.
   * Either way a topic the group has never committed on (a new space, or one created while no
   * worker ran) is read from its start, and every other partition resumes from its commit.
   */
  fromBeginning: boolean;
  /** How often Kafka's topic list is checked for new topics. */
  topicRefreshMs: number;
  /** Full drain-cache refresh (the safety net behind LISTEN/NOTIFY). */
  cacheRefreshMs: number;
  commitIntervalMs: number;
  /** How often the DLQ is checked for retry requests (a NOTIFY also wakes the worker). */
  dlqPollMs: number;
  retry: RetryPolicy;
  queueMax: number;
  connectTimeoutMs: number;
  writeTimeoutMs: number;
  ackGraceMs: number;
  /** A stopping worker waits this long for lines in flight before it commits and leaves. */
  stopTimeoutMs: number;
  sessionTimeoutMs: number;
  /** Kafka fetch size per partition (bytes) and partitions processed at once. */
  maxBytesPerPartition: number;
  partitionsConsumedConcurrently: number;
  tlsCa?: string | Buffer;
  /** Outstanding HTTP requests per drain (1 keeps the order). */
  httpMaxInFlight: number;
  /**
   * When a healthy drain's queue is full (a burst), the consumer waits up to this long for room
   * before parking the overflow; this bounds how long one drain can delay the others.
   */
  overflowWaitMs: number;
  /** Lines waiting for the DLQ write beyond which the consumer waits (PostgreSQL down and a drain down). */
  parkBacklogMax: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  groupId: 'logway-drains',
  fromBeginning: false,
  topicRefreshMs: 5000,
  cacheRefreshMs: 30_000,
  commitIntervalMs: 1000,
  dlqPollMs: 2000,
  retry: DEFAULT_RETRY,
  queueMax: 20_000,
  connectTimeoutMs: 5000,
  writeTimeoutMs: 10_000,
  ackGraceMs: 250,
  stopTimeoutMs: 5000,
  sessionTimeoutMs: 30_000,
  maxBytesPerPartition: 1024 * 1024,
  partitionsConsumedConcurrently: 1,
  httpMaxInFlight: 1,
  parkBacklogMax: 200_000,
  overflowWaitMs: 2000,
};

/**
 * The drain worker: a Kafka log source (lib/kafka/source, group `groupId` shared by every node, manual
 * commits, a new group starting at the end of today's topics) whose batches go to the Dispatcher,
 * the drains of the DrainRegistry, and the DlqPump for operator retries; PostgreSQL NOTIFY wakes
 * the registry and the pump. This class only wires them and runs their timers.
 */
export class DrainWorker implements DepthSource {
  private log: Logger;
  private parker: Parker;
  private listener: PgListener;
  private registry: DrainRegistry;
  private dispatcher: Dispatcher;
  private pump: DlqPump;
  private source: LogSource;
  private timers: NodeJS.Timeout[] = [];
  private stopped = true;

  constructor(
    core: Core,
    store: DrainStore,
    dlq: DlqStore,
    private metrics: DrainMetrics,
    private opts: WorkerOptions,
  ) {
    this.log = core.logger.child({ component: 'drains' });
    this.parker = new Parker(dlq, metrics, this.log);
    this.registry = new DrainRegistry(store, this.parker, metrics, DestinationPolicy.fromConfig(core.config), opts, this.log);
    const patterns = opts.topics;
    this.source = new LogSource(
      core.kafka,
      {
        onBatch: (batch) => this.dispatcher.onBatch(batch),
        // A deleted topic is forgotten by the offset tracker: Kafka refuses a whole commit naming it.
        topicsChanged: (c) => c.removed.forEach((t) => this.dispatcher.forgetTopic(t)),
        // What settled before the switch is committed by the consumer that read it.
        beforeRestart: () => this.dispatcher.commit(true),
      },
      {
        name: 'drains',
        groupId: opts.groupId,
        wanted: (t) => isLogTopic(t) && (!patterns || patterns.some((p) => (typeof p === 'string' ? p === t : p.test(t)))),
        start: opts.fromBeginning ? 'earliest' : 'group-at-end',
        commit: 'manual',
        pollMs: opts.topicRefreshMs,
        sessionTimeoutMs: opts.sessionTimeoutMs,
        maxBytesPerPartition: opts.maxBytesPerPartition,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
        metrics: sourceMetrics(core.prom.registry),
        quarantines: core.dependencies,
      },
      this.log,
    );
    const reader = new LogLineReader({ apps: core.apps, malformed: metrics.malformed, log: this.log });
    this.dispatcher = new Dispatcher(this.registry, reader, this.parker, metrics, this.source, opts, this.log);
    this.pump = new DlqPump(dlq, this.registry, this.parker, () => (opts.topics ? [...this.source.topics] : undefined), this.log);
    this.listener = new PgListener(core.db, this.log, {
      channels: [DRAINS_CHANNEL, DlqStore.RETRY_CHANNEL],
      onNotify: (channel) => {
        if (channel === DRAINS_CHANNEL) this.registry.scheduleRefresh(50);
        else void this.pump.pump();
      },
      onReconnect: () => {
        this.registry.scheduleRefresh(0);
        void this.pump.pump();
      },
    });
  }

  depths(): { drain: string; app: string; depth: number }[] {
    return [...this.registry.all()].map((d) => ({ drain: d.drain.id, app: d.drain.token, depth: d.sender.depth }));
  }

  /** Live drain state, for tests and debugging. */
  senderOf(drainId: string): DrainSender | undefined {
    return this.registry.get(drainId)?.sender;
  }

  get subscribedTopics(): string[] {
    return [...this.source.topics];
  }

  /** Lines read from Kafka and not yet settled on every drain. */
  get unsettled(): number {
    return this.dispatcher.tracker.unsettled();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.metrics.sources.add(this);
    this.registry.open();
    this.pump.start();
    await this.listener.start();
    await this.registry.refresh();
    await this.source.start();
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.cacheRefreshMs, () => this.registry.scheduleRefresh(0));
    every(this.opts.commitIntervalMs, () => void this.dispatcher.commit());
    every(this.opts.dlqPollMs, () => void this.pump.pump());
    void this.pump.pump();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pump.halt();
    this.timers.forEach(clearInterval);
    this.timers = [];
    await this.listener.stop();
    const topics = this.source.topics;
    if (topics.length) this.source.pause(topics.map((topic) => ({ topic })));
    // Give lines in flight a moment to land so their offsets can be committed; whatever is still
    // unsettled after that is simply not committed and the next owner of the partition resends it.
    const deadline = Date.now() + this.opts.stopTimeoutMs;
    while (this.dispatcher.tracker.unsettled() > 0 && Date.now() < deadline) await sleep(50);
    await this.parker.idle(Math.max(0, deadline - Date.now()));
    await this.dispatcher.commit(true);
    await this.source.stop();
    this.registry.close();
    this.parker.stop();
    await this.pump.release();
    this.metrics.sources.delete(this);
  }

  /** Reloads every drain now (tests; NOTIFY and the timer do it otherwise). */
  refreshDrains(): Promise<void> {
    return this.registry.refresh();
  }

  /** Re-lists the topics now and resubscribes if they changed (the poll does it every topicRefreshMs). */
  resubscribe(): Promise<void> {
    return this.source.refresh().catch((e) => this.log.error({ err: (e as Error).message }, 'drain worker could not subscribe; will retry'));
  }

  /** Claims the lines an operator asked to retry (NOTIFY and the poll do it otherwise). */
  pumpDlq(): Promise<void> {
    return this.pump.pump();
  }
}
