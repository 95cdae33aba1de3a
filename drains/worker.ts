/**
 * The drain worker: a Kafka consumer group over every log topic (N logway nodes share the
 * partitions), each line parsed once and offered to each drain of its app through that drain's
 * sender. Offsets are committed by the OffsetTracker only once every drain of every earlier line
 * acknowledged it or parked it in the DLQ (DESIGN §3 "Guarantees").
 */
import tls from 'node:tls';
import type { Core } from '../lib/core';
import type { Batch, RunningConsumer } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import type { LogLine } from '../lib/log/line';
import { isLogTopic, parseKafkaMessage } from '../lib/log/parse';
import { DEFAULT_RETRY, RetryPolicy } from './backoff';
import { DlqStore, lineFromStored } from './dlq';
import { PgListener } from './listener';
import { DepthSource, DrainMetrics } from './metrics';
import { OffsetTracker } from './offsets';
import { Parker } from './parker';
import { DrainSender, Outcome, SendItem, Settler, Transport } from './sender';
import { Drain, DrainStore } from './store';
import { HttpTransport } from './transports/http';
import { StreamTransport, UdpTransport } from './transports/syslog';
import { DrainTarget, parseDrainUrl } from './url';
import { DestinationPolicy } from './destination';
import { isTopicGone, TopicDiscovery } from '../lib/topics';

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

interface LiveDrain {
  drain: Drain;
  target: DrainTarget;
  sender: DrainSender;
}

export class DrainWorker implements DepthSource {
  private log: Logger;
  private tracker = new OffsetTracker();
  private parker: Parker;
  private listener: PgListener;
  private drains = new Map<string, LiveDrain>();
  private byToken = new Map<string, LiveDrain[]>();
  private consumer: RunningConsumer | null = null;
  private topics: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private resubscribing = false;
  /** Set once the group is known to have its start positions (startGroupAtEnd checked or done). */
  private groupStarted = false;
  private committing = false;
  private pumpingDlq = false;
  private dlqAgain = false;
  private stopped = true;
  private parseWarned = new Set<string>();
  /** DLQ rows this worker claimed and has not settled yet. */
  private claimed = new Set<string>();
  /** Lines resent from the DLQ: delivered → the row goes; parked again → the parker updated the row. */
  private dlqSettler: Settler = {
    settle: (o: Outcome, item: SendItem) => {
      const id = item.dlqId as string;
      this.claimed.delete(id);
      if (o === 'delivered') this.parker.removeDelivered(id);
    },
  };
  /** Built once: a SecureContext with ~140 system roots costs milliseconds, too much per connection. */
  private secureContext?: tls.SecureContext;
  /** Every connect re-checks the drain's address (DNS rebinding, drains created before the policy). */
  private destinations: DestinationPolicy;
  private discovery: TopicDiscovery;

  constructor(
    private core: Core,
    private store: DrainStore,
    private dlq: DlqStore,
    private metrics: DrainMetrics,
    private opts: WorkerOptions,
  ) {
    this.log = core.logger.child({ component: 'drains' });
    this.destinations = DestinationPolicy.fromConfig(core.config);
    const patterns = opts.topics;
    this.discovery = new TopicDiscovery(
      core.kafka,
      (t) => isLogTopic(t) && (!patterns || patterns.some((p) => (typeof p === 'string' ? p === t : p.test(t)))),
      this.log,
    );
    if (opts.tlsCa) this.secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, opts.tlsCa.toString()] });
    this.parker = new Parker(dlq, metrics, this.log);
    this.listener = new PgListener(core.db, this.log, {
      channels: [DRAINS_CHANNEL, DlqStore.RETRY_CHANNEL],
      onNotify: (channel) => {
        if (channel === DRAINS_CHANNEL) this.scheduleRefresh(50);
        else void this.pumpDlq();
      },
      onReconnect: () => {
        this.scheduleRefresh(0);
        void this.pumpDlq();
      },
    });
  }

  depths(): { drain: string; app: string; depth: number }[] {
    return [...this.drains.values()].map((d) => ({ drain: d.drain.id, app: d.drain.token, depth: d.sender.depth }));
  }

  /** Live drain state, for tests and debugging. */
  senderOf(drainId: string): DrainSender | undefined {
    return this.drains.get(drainId)?.sender;
  }

  get subscribedTopics(): string[] {
    return [...this.topics];
  }

  /** Lines read from Kafka and not yet settled on every drain. */
  get unsettled(): number {
    return this.tracker.unsettled();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.metrics.sources.add(this);
    await this.listener.start();
    await this.refreshDrains();
    await this.resubscribe();
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.topicRefreshMs, () => void this.resubscribe());
    every(this.opts.cacheRefreshMs, () => this.scheduleRefresh(0));
    every(this.opts.commitIntervalMs, () => void this.commit());
    every(this.opts.dlqPollMs, () => void this.pumpDlq());
    void this.pumpDlq();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.timers = [];
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    await this.listener.stop();
    const consumer = this.consumer;
    if (consumer && this.topics.length) consumer.pause(this.topics.map((topic) => ({ topic })));
    // Give lines in flight a moment to land so their offsets can be committed; whatever is still
    // unsettled after that is simply not committed and the next owner of the partition resends it.
    const deadline = Date.now() + this.opts.stopTimeoutMs;
    while (this.tracker.unsettled() > 0 && Date.now() < deadline) await sleep(50);
    await this.parker.idle(Math.max(0, deadline - Date.now()));
    await this.commit(true);
    this.consumer = null;
    if (consumer) await consumer.stop();
    for (const d of this.drains.values()) d.sender.close();
    this.drains.clear();
    this.byToken.clear();
    this.parker.stop();
    if (this.claimed.size) await this.dlq.unclaim([...this.claimed]).catch(() => undefined);
    this.claimed.clear();
    this.metrics.sources.delete(this);
  }

  // ---- drains cache -------------------------------------------------------

  private scheduleRefresh(ms: number): void {
    if (this.stopped || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshDrains().catch((e) => this.log.error({ err: (e as Error).message }, 'drain cache refresh failed'));
    }, ms);
  }

  /** Reloads every drain; starts senders for new ones and stops those of deleted ones. */
  async refreshDrains(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const all = await this.store.all();
        if (this.stopped) return;
        this.syncDrains(all);
      } while (this.refreshAgain && !this.stopped);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private syncDrains(all: Drain[]): void {
    const seen = new Set<string>();
    for (const drain of all) {
      seen.add(drain.id);
      if (this.drains.has(drain.id)) continue;
      let target: DrainTarget;
      try {
        target = parseDrainUrl(drain.url);
      } catch (e) {
        this.log.warn({ drain: drain.id, err: (e as Error).message }, 'drain url no longer valid; skipped');
        continue;
      }
      const sender = new DrainSender(
        { id: drain.id, token: drain.token },
        target,
        this.transportFor(target, drain.token),
        this.parker,
        this.metrics,
        { retry: this.opts.retry, queueMax: this.opts.queueMax },
        this.log.child({ drain: drain.id }),
      );
      this.drains.set(drain.id, { drain, target, sender });
      this.log.info({ drain: drain.id, token: drain.token, transport: target.transport }, 'drain started');
    }
    for (const [id, d] of this.drains) {
      if (seen.has(id)) continue;
      this.drains.delete(id);
      d.sender.remove();
      this.metrics.removeDrain(id, d.drain.token);
      this.log.info({ drain: id, token: d.drain.token }, 'drain stopped (deleted)');
    }
    const byToken = new Map<string, LiveDrain[]>();
    for (const d of this.drains.values()) {
      const list = byToken.get(d.drain.token) ?? [];
      list.push(d);
      byToken.set(d.drain.token, list);
    }
    this.byToken = byToken;
  }

  private transportFor(target: DrainTarget, token: string): Transport {
    switch (target.transport) {
      case 'udp':
        return new UdpTransport(target, this.destinations);
      case 'http':
      case 'https':
        return new HttpTransport(target, token, {
          policy: this.destinations,
          timeoutMs: this.opts.writeTimeoutMs,
          secureContext: this.secureContext,
          maxInFlight: this.opts.httpMaxInFlight,
        });
      default:
        return new StreamTransport(target, {
          policy: this.destinations,
          connectTimeoutMs: this.opts.connectTimeoutMs,
          writeTimeoutMs: this.opts.writeTimeoutMs,
          ackGraceMs: this.opts.ackGraceMs,
          secureContext: this.secureContext,
        });
    }
  }

  // ---- Kafka --------------------------------------------------------------

  /**
   * The log topics to read now. A deleted topic is forgotten by the offset tracker: its offsets
   * can no longer be committed (Kafka refuses the whole commit request that names it), and a
   * topic re-created under its name is a new one, read from its start.
   */
  private async wantedTopics(): Promise<string[]> {
    const { topics, removed } = await this.discovery.refresh();
    for (const topic of removed) this.tracker.forgetTopic(topic);
    return topics;
  }

  /**
   * kafkajs resolves topic patterns only when it subscribes, so new topics (a new space) mean a new
   * subscription. Kafka then hands back records from the last commit; those this process already
   * dispatched are skipped (OffsetTracker.seen), so a resubscribe adds no duplicates.
   */
  async resubscribe(): Promise<void> {
    if (this.stopped || this.resubscribing) return;
    this.resubscribing = true;
    try {
      const wanted = await this.wantedTopics();
      if (this.stopped) return;
      if (wanted.join('\n') === this.topics.join('\n') && this.consumer) return;
      if (wanted.length === 0) return;
      const old = this.consumer;
      if (old) {
        await this.commit(true);
        this.consumer = null;
        await old.stop();
      }
      if (!this.opts.fromBeginning && !this.groupStarted) {
        // A brand-new group starts at the end of today's topics: their ends are committed for it
        // first. After that every subscription is fromBeginning, which only matters for
        // partitions with no commit: topics created later are read from their first line.
        const fresh = await this.core.kafka.startGroupAtEnd(this.opts.groupId, wanted);
        if (this.stopped) return;
        this.groupStarted = true;
        if (fresh) this.log.info({ topics: wanted.length, groupId: this.opts.groupId }, 'new drain consumer group starts at the end of the existing topics');
      }
      this.log.info({ topics: wanted.length, groupId: this.opts.groupId }, 'drain worker subscribing');
      const consumer = await this.core.kafka.consume(
        {
          groupId: this.opts.groupId,
          name: 'drains',
          topics: wanted,
          fromBeginning: true,
          autoCommit: false,
          sessionTimeoutMs: this.opts.sessionTimeoutMs,
          maxBytesPerPartition: this.opts.maxBytesPerPartition,
          partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently,
        },
        (batch) => this.onBatch(batch),
      );
      consumer.onCrash((err) => {
        this.log.error({ err: err.message }, 'drain consumer crashed; resubscribing');
        if (this.consumer === consumer) {
          this.consumer = null;
          this.topics = [];
          // A deleted topic (the usual cause) is dropped by the re-list; a second later, not in a loop.
          if (isTopicGone(err)) setTimeout(() => void this.resubscribe(), 1000).unref();
        }
      });
      if (this.stopped) {
        await consumer.stop();
        return;
      }
      this.consumer = consumer;
      this.topics = wanted;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'drain worker could not subscribe; will retry');
    } finally {
      this.resubscribing = false;
    }
  }

  private async onBatch(batch: Batch): Promise<void> {
    if (this.parker.backlog > this.opts.parkBacklogMax) {
      // PostgreSQL is not taking parked lines: wait rather than hold an unbounded backlog in memory.
      while (this.parker.backlog > this.opts.parkBacklogMax / 2 && batch.isRunning() && !batch.isStale()) {
        await sleep(200);
        await batch.heartbeat().catch(() => undefined);
      }
    }
    let last: string | null = null;
    let overflowDeadline: number | undefined;
    this.metrics.lines.inc({ topic: batch.topic }, batch.records.length);
    const track = this.tracker.partition(batch.topic, batch.partition);
    for (let i = 0; i < batch.records.length; i++) {
      const rec = batch.records[i];
      // kafkajs's checks build strings per call: look every 256 records, not every record.
      if ((i & 255) === 0 && (!batch.isRunning() || batch.isStale())) break;
      last = rec.offset;
      if (track.seen(rec.offset)) continue;
      const parsed = parseKafkaMessage(rec);
      if (!parsed.ok) {
        track.add(rec.offset, 0);
        this.metrics.parseErrors.inc({ kind: parsed.kind });
        if (!this.parseWarned.has(parsed.kind)) {
          this.parseWarned.add(parsed.kind);
          this.log.warn({ kind: parsed.kind, reason: parsed.reason, topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'malformed log message skipped');
        }
        continue;
      }
      this.registerApp(parsed.line);
      const appDrains = this.byToken.get(parsed.line.appKey);
      const siteDrains = parsed.siteLine ? this.byToken.get(parsed.siteLine.appKey) : undefined;
      const targets = (appDrains?.length ?? 0) + (siteDrains?.length ?? 0);
      const record = track.add(rec.offset, targets);
      if (targets === 0) continue;
      for (let k = 0; k < 2; k++) {
        const drains = k === 0 ? appDrains : siteDrains;
        if (!drains) continue;
        const l = (k === 0 ? parsed.line : parsed.siteLine) as LogLine;
        for (const d of drains) {
          if (!d.sender.hasRoom() && d.sender.healthy) {
            // A burst, not an outage: wait a bounded time for room (the deadline is per Kafka batch).
            overflowDeadline ??= Date.now() + this.opts.overflowWaitMs;
            const ok = await d.sender.waitForRoom(Math.max(0, overflowDeadline - Date.now()));
            if (!ok && d.sender.healthy) {
              d.sender.overflowing = true;
              this.log.warn({ drain: d.drain.id, app: d.drain.token }, 'drain too slow for the stream; parking its overflow in the DLQ');
            }
          }
          d.sender.offer(l, record);
        }
      }
    }
    if (last !== null) {
      // Moves kafkajs's fetch position on; what is committed is the tracker's business (autoCommit off).
      batch.resolveOffset(last);
      const lag = Number(batch.highWatermark) - Number(last) - 1;
      this.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag));
    }
    await batch.heartbeat().catch(() => undefined);
  }

  private registerApp(line: LogLine): void {
    if (line.space === '') return;
    this.core.apps.learn(line.appKey);
  }

  private async commit(force = false): Promise<void> {
    if (this.committing) {
      if (!force) return;
      while (this.committing) await sleep(10);
    }
    const consumer = this.consumer;
    if (!consumer) return;
    const points = this.tracker.committable();
    if (points.length === 0) return;
    this.committing = true;
    try {
      await consumer.commit(points);
      this.tracker.markCommitted(points);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'drain offset commit failed; will retry');
      // A topic deleted since the last look fails the whole commit: re-list (and forget it) now.
      if (isTopicGone(e)) void this.resubscribe();
    } finally {
      this.committing = false;
    }
  }

  // ---- DLQ retries ----------------------------------------------------------

  /** Claims lines an operator asked to retry and offers them to their drain's sender (the normal path). */
  async pumpDlq(): Promise<void> {
    if (this.stopped) return;
    if (this.pumpingDlq) {
      this.dlqAgain = true;
      return;
    }
    this.pumpingDlq = true;
    try {
      do {
        this.dlqAgain = false;
        // Only lines this worker serves: its live drains and, when it is scoped to some topics,
        // lines read from those. Several independent workers can share one PostgreSQL (tests,
        // benchmarks, a staging worker on a subset of topics) and all hear the same NOTIFY; one
        // that claimed another's line would send it with its own TLS trust and retry budget.
        const rows = await this.dlq.claim(500, {
          drains: [...this.drains.keys()],
          topics: this.opts.topics ? [...this.topics] : undefined,
        });
        if (rows.length === 0) break;
        const giveBack: string[] = [];
        for (const row of rows) {
          const live = this.drains.get(row.drainId);
          if (!live || !live.sender.hasRoom() || this.stopped) {
            giveBack.push(row.id);
            continue;
          }
          this.claimed.add(row.id);
          live.sender.offer(lineFromStored(row.line), this.dlqSettler, row.id);
        }
        if (giveBack.length) {
          await this.dlq.unclaim(giveBack);
          // Drains are full or unknown here: try again on the next poll rather than spin.
          break;
        }
      } while (!this.stopped);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'DLQ retry pump failed; will retry');
    } finally {
      this.pumpingDlq = false;
    }
    if (this.dlqAgain && !this.stopped) void this.pumpDlq();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
