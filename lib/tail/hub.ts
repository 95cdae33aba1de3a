/**
 * The tail hub: ONE Kafka log source per logway node (lib/kafka/source, tracked positions, never
 * committing) over the log topics this node's sessions need (./demand: read on demand, with a
 * linger; or every log topic, `reading: 'every-topic'`), each line fanned out to the open
 * sessions of its app (or site) and into the app's recent-lines ring. Its parts: ./hub-positions
 * (where the hub is in each partition: the seam between a session's history and its live lines),
 * ./fanout (rings and subscribers), ./history (history and resume), ./discovery (apps the
 * registry lacks, found in their space topic). docs/scale-out.md "Tail reading".
 */
import os from 'node:os';
import crypto from 'node:crypto';
import type { Core } from '../core';
import type { Batch } from '../kafka';
import type { LogLine } from '../log/line';
import type { Logger } from '../logger';
import { isLogTopic } from '../log/parse';
import { LogLineReader, LogSource, malformedBy, sourceMetrics } from '../kafka';
import type { SourceTopics } from '../kafka';
import { RingStore } from './ring';
import { Positions, tpKey } from './positions';
import { createTailMetrics, TailMetrics } from './metrics';
import { ReadbackLimiter } from './readbacks';
import { Fanout, Subscriber, TargetKind, topicsFor } from './fanout';
import { HubPositions } from './hub-positions';
import { HistoryReader, HistoryRequest } from './history';
import { TopicDemand } from './demand';
import { AppDiscovery } from './discovery';
import { BUILD_TOPIC, ROUTER_TOPIC } from '../log/parse';

export { topicsFor };
export type { Subscriber, TargetKind, HistoryRequest };

/**
 * `on-demand`: a topic is read while a session on this node needs it, plus `lingerMs`.
 * `every-topic`: every log topic all the time, learning apps as it reads. The default is
 * config.tailReading (TAIL_READING, every-topic until on-demand has passed the cluster suite
 * reliably: one broker-death run of three lost a partition's lines on the live tail).
 */
export type HubReading = 'on-demand' | 'every-topic';

export interface HubOptions {
  reading?: HubReading;
  /** How long a topic is still read after the last session that needed it closed (default 60 s). */
  lingerMs?: number;
  /** Consumer group prefix; a random suffix makes every hub (and every restart) its own group. */
  groupIdPrefix?: string;
  /** Which topics are log topics (default: names not starting with `_`). */
  topicFilter?: (topic: string) => boolean;
  /** How often to look for new topics and partitions. */
  topicPollMs?: number;
  ringLinesPerApp?: number;
  ringMaxBytes?: number;
  /** Cold history reads at most this many messages back per partition. */
  historyScanMessages?: number;
  /** Give up on a Kafka history read after this long (the stream goes on with what was read). */
  readTimeoutMs?: number;
  /** Where the topics that exist at start are read from: `latest` (default) or `earliest` (benchmarks). */
  initialPosition?: 'latest' | 'earliest';
  /** Fetch size per partition (default 4 MiB: fewer round trips when catching up). */
  maxBytesPerPartition?: number;
  /** Partitions whose batches are handled concurrently (default 4; processing itself is synchronous). */
  partitionsConsumedConcurrently?: number;
  /** Cap on one fetch response over all partitions (default: kafkajs's 10 MiB). */
  fetchMaxBytes?: number;
  /** Bytes the broker waits for before answering a fetch, up to fetchMaxWaitMs (default 1: answer at once). */
  fetchMinBytes?: number;
  /** Longest the broker holds a fetch waiting for fetchMinBytes (default 1000). */
  fetchMaxWaitMs?: number;
  /** Kafka read-backs running at once (default config.maxConcurrentReadbacks, 4). */
  maxConcurrentReadbacks?: number;
  /** Read-backs waiting for a slot before further ones are refused with 429 (default 16). */
  readbackQueueLength?: number;
}

export class TailHub {
  readonly metrics: TailMetrics;
  readonly rings: RingStore;
  /** Bounds the Kafka read-backs (history back-fills, resumes) of this node. */
  readonly readbacks: ReadbackLimiter;
  private log: Logger;
  private positions: HubPositions;
  private fanout: Fanout;
  private historyReader: HistoryReader;
  private reader: LogLineReader;
  private source: LogSource;
  private demand: TopicDemand;
  private discovery: AppDiscovery;
  private everyTopic: boolean;
  private wanted: (topic: string) => boolean;
  /** Topics a session asked for that the hub did not read: read from their end (history comes from Kafka). */
  private askedFor = new Set<string>();
  /** The refresh that drops the topics whose linger ran out, while it runs. */
  private dropping?: Promise<void>;
  private running = false;

  constructor(
    private core: Core,
    opts: HubOptions = {},
  ) {
    this.log = core.logger.child({ component: 'tail-hub' });
    this.metrics = createTailMetrics(core.prom.registry);
    this.readbacks = new ReadbackLimiter({
      max: opts.maxConcurrentReadbacks ?? core.config.maxConcurrentReadbacks,
      queueLength: opts.readbackQueueLength ?? 16,
      onRefused: () => this.metrics.sessionsRefused.inc({ reason: 'readbacks' }),
    });
    this.rings = new RingStore({ linesPerApp: opts.ringLinesPerApp ?? 1500, maxBytes: opts.ringMaxBytes ?? 256 * 1024 * 1024 });
    const groupBase = `${opts.groupIdPrefix ?? 'logway-tail'}-${os.hostname()}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    this.positions = new HubPositions(opts.initialPosition ?? 'latest');
    this.fanout = new Fanout(this.rings, (topics) => this.positions.snapshot(topics));
    this.historyReader = new HistoryReader(
      core,
      this.positions,
      this.rings,
      this.readbacks,
      { historyScanMessages: opts.historyScanMessages ?? 20000, readTimeoutMs: opts.readTimeoutMs ?? 15000, groupIdPrefix: `${groupBase}-read` },
      this.log,
    );
    this.everyTopic = (opts.reading ?? core.config.tailReading) === 'every-topic';
    this.demand = new TopicDemand(opts.lingerMs ?? 60_000, () => {
      if (!this.running) return;
      const dropping: Promise<void> = this.refreshTopics()
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'topic refresh failed'))
        .finally(() => {
          if (this.dropping === dropping) this.dropping = undefined;
        });
      this.dropping = dropping;
    });
    this.discovery = new AppDiscovery({
      kafka: core.kafka,
      apps: core.apps,
      readBack: (ranges) => this.historyReader.readBack(ranges),
      scanMessages: opts.historyScanMessages ?? 20000,
      log: this.log,
    });
    // Reading on demand, this node sees only some spaces: apps are learned by the drains consumer
    // group (every line once per cluster) and by discovery. Reading everything, it learns as it reads.
    const apps = this.everyTopic ? core.apps : { learn: () => undefined };
    this.reader = new LogLineReader({ apps, malformed: malformedBy(this.metrics.malformed, 'tail'), log: this.log });
    const wanted = (this.wanted = opts.topicFilter ?? isLogTopic);
    this.source = new LogSource(
      core.kafka,
      {
        onBatch: (batch) => this.onBatch(batch),
        topicsChanged: (change) => this.topicsChanged(change),
        positions: () => this.positions.seeks(),
      },
      {
        name: 'tail-hub',
        groupId: groupBase,
        wanted: (t) => wanted(t) && (this.everyTopic || this.demand.wants(t)),
        start: 'tracked',
        commit: 'none',
        offsets: true,
        pollMs: opts.topicPollMs ?? 5000,
        maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 4,
        maxBytes: opts.fetchMaxBytes,
        minBytes: opts.fetchMinBytes,
        maxWaitTimeMs: opts.fetchMaxWaitMs,
        metrics: sourceMetrics(core.prom.registry),
        quarantines: core.dependencies,
      },
      this.log,
    );
  }

  /** Topics sessions on this node need now (or lingering). */
  get neededTopics(): string[] {
    return this.demand.topics;
  }

  /** Topics the hub reads now. */
  get topics(): string[] {
    return this.positions.topics;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.core.apps.setDiscovery((appKey) => this.discovery.has(appKey));
    await this.source.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.core.apps.setDiscovery(undefined);
    this.demand.clear();
    await this.source.stop();
  }

  /**
   * Holds the topics a session needs (its history or live lines) until the returned release is
   * called; the ones the hub does not read yet are read from now on, and their positions are set
   * (their end now) when this resolves, so the session's snapshot is the seam between what it
   * reads back from Kafka and what the hub delivers live.
   */
  async need(topics: string[]): Promise<() => void> {
    const release = this.demand.hold(topics);
    if (this.everyTopic) return release;
    // A linger that just ran out may have had its topic listed as unwanted before this hold: what
    // that refresh drops is looked at after it.
    await this.dropping;
    const unread = topics.filter((t) => this.wanted(t) && !this.positions.partitions(t));
    if (unread.length === 0) return release;
    unread.forEach((t) => this.askedFor.add(t));
    try {
      await this.source.refresh();
    } catch (err) {
      // Positions set but the consumer's start failed: the source starts it again from them (no
      // gap), so the session goes on. Nothing set: the session cannot have its seam.
      if (!unread.some((t) => this.positions.partitions(t))) {
        release();
        throw err;
      }
      this.log.warn({ err: (err as Error).message }, 'tail consumer restart failed; retrying');
      this.source.refreshSoon();
    } finally {
      unread.forEach((t) => this.askedFor.delete(t));
    }
    return release;
  }

  /**
   * Topics added, grown or dropped. A topic no longer read (deleted, or nobody needs it) takes
   * the rings of its apps with it, and so does one a session asked for, read from its end: such
   * a ring would miss the lines of the time it was not read. Discovery rescans a deleted topic.
   */
  private topicsChanged(change: SourceTopics): void {
    change.removed.forEach((t) => this.discovery.forgetTopic(t));
    const fromEnd = (t: string) => this.askedFor.has(t);
    const stale = [...change.removed, ...change.added.filter((a) => !change.initial && fromEnd(a.topic)).map((a) => a.topic)];
    if (stale.length) this.rings.dropWhere((key) => stale.some((t) => t === ROUTER_TOPIC || t === BUILD_TOPIC || topicsFor('app', key)[0] === t));
    this.positions.apply(change, this.rings, fromEnd);
  }

  /** Looks for new, grown and deleted topics now (the source's poll does it every topicPollMs). */
  refreshTopics(): Promise<void> {
    return this.source.refresh();
  }

  /** Processed synchronously: a subscription's snapshot always falls between two batches. */
  private onBatch(batch: Batch): void {
    const key = tpKey(batch.topic, batch.partition);
    let next = this.positions.next.get(key) ?? 0;
    let processed = 0;
    for (const rec of batch.records) {
      const off = Number(rec.offset);
      if (off < next) continue;
      const parsed = this.reader.read(rec);
      if (parsed) {
        this.fanout.deliver(parsed.line, 'app');
        if (parsed.siteLine) this.fanout.deliver(parsed.siteLine, 'site');
      }
      next = off + 1;
      processed++;
    }
    this.positions.next.set(key, next);
    // The consumer fetches from the last resolved offset (nothing is committed: autoCommit off).
    const last = batch.records[batch.records.length - 1];
    if (last) batch.resolveOffset(last.offset);
    if (processed) this.metrics.linesConsumed.inc({ consumer: 'tail' }, processed);
    this.metrics.hubLag.set(this.positions.lagged(key, Math.max(0, Number(batch.highWatermark) - next)));
  }

  /** Next offsets for every known partition of these topics (now, between two batches). */
  snapshot(topics: string[]): Positions {
    return this.positions.snapshot(topics);
  }

  /** Adds a live subscriber; returns the positions that separate its history from its live lines. */
  subscribe(kind: TargetKind, key: string, sub: Subscriber): Positions {
    this.fanout.add(key, sub);
    return this.positions.snapshot(topicsFor(kind, key));
  }

  unsubscribe(key: string, sub: Subscriber): void {
    this.fanout.remove(key, sub);
  }

  history(req: HistoryRequest, upTo: Positions): Promise<LogLine[]> {
    return this.historyReader.history(req, upTo);
  }

  catchUp(key: string, cursor: Positions, upTo: Positions, filter: (l: LogLine) => boolean, floor?: Positions): Promise<LogLine[]> {
    return this.historyReader.catchUp(key, cursor, upTo, filter, floor);
  }

  resumeFloor(upTo: Positions, atMs: number): Promise<Positions> {
    return this.historyReader.resumeFloor(upTo, atMs);
  }

  warm(kind: TargetKind, key: string): Promise<void> {
    return this.historyReader.warm(kind, key);
  }
}
