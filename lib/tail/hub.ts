/**
 * The tail hub: ONE Kafka consumer per logway node over every log topic, fanning each line out
 * to the open sessions of its app (or site) and into the app's recent-lines ring. The number of
 * consumers never grows with the number of sessions; a session is a map entry.
 *
 * Positions: the hub tracks, per partition, the next offset it will process. A subscription
 * takes a snapshot of them synchronously (batches are processed synchronously, so a snapshot
 * falls between two batches): everything before the snapshot is history, everything after is
 * live. That is what makes the seam exact — no gap, no duplicate.
 */
import os from 'node:os';
import crypto from 'node:crypto';
import type { Core } from '../core';
import type { Batch, KafkaRecord, PartitionRange, RunningConsumer } from '../kafka';
import type { LogLine } from '../log/line';
import type { Logger } from '../logger';
import { parseKafkaMessage, isLogTopic, ROUTER_TOPIC, BUILD_TOPIC, ParseFailureKind } from '../log/parse';
import { RingStore } from './ring';
import { parseTpKey, positionKey, Positions, tpKey } from './positions';
import { createTailMetrics, TailMetrics } from './metrics';
import { ReadbackLimiter } from './readbacks';
import { TopicDiscovery } from '../topics';

export type TargetKind = 'app' | 'site';

export interface Subscriber {
  filter: (line: LogLine) => boolean;
  accept(line: LogLine): void;
}

export interface HubOptions {
  /** Consumer group prefix; a random suffix makes every hub (and every restart) its own group. */
  groupIdPrefix?: string;
  /** Which topics are log topics (default: names not starting with `_`). */
  topicFilter?: (topic: string) => boolean;
  /** How often to look for new topics. */
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

export interface HistoryRequest {
  kind: TargetKind;
  key: string;
  lines: number;
  filter: (line: LogLine) => boolean;
  since?: number;
}

/** The topics an app's lines come from: its space, the router topic, the build topic. Sites: router only. */
export function topicsFor(kind: TargetKind, key: string): string[] {
  if (kind === 'site') return [ROUTER_TOPIC];
  const i = key.indexOf('-');
  const space = i < 0 ? 'default' : key.slice(i + 1);
  return [space, ROUTER_TOPIC, BUILD_TOPIC];
}

function lineBefore(line: LogLine, snapshot: Positions): boolean {
  const p = snapshot.get(positionKey(line.position));
  return p === undefined || Number(line.position.offset) < p;
}

function byTime(a: LogLine, b: LogLine): number {
  return a.time.getTime() - b.time.getTime();
}

/** The last `n` by time, oldest first (Array.prototype.sort is stable: ties keep Kafka order). */
function lastByTime(lines: LogLine[], n: number): LogLine[] {
  const sorted = [...lines].sort(byTime);
  return sorted.length > n ? sorted.slice(sorted.length - n) : sorted;
}

export class TailHub {
  readonly metrics: TailMetrics;
  readonly rings: RingStore;
  private log: Logger;
  /** Bounds the Kafka read-backs (history back-fills, resumes) of this node. */
  readonly readbacks: ReadbackLimiter;
  private opts: Required<Omit<HubOptions, 'topicFilter' | 'fetchMaxBytes' | 'fetchMinBytes' | 'fetchMaxWaitMs' | 'maxConcurrentReadbacks' | 'readbackQueueLength'>> &
    Pick<HubOptions, 'fetchMaxBytes' | 'fetchMinBytes' | 'fetchMaxWaitMs'> & { topicFilter: (t: string) => boolean };
  /** Next offset to process, per `topic:partition` of every subscribed topic. */
  private positions: Positions = new Map();
  private partitionsOf = new Map<string, number[]>();
  private lag = new Map<string, number>();
  private subscribers = new Map<string, Set<Subscriber>>();
  private consumer?: RunningConsumer;
  private generation = 0;
  private running = false;
  private initialized = false;
  private pollTimer?: NodeJS.Timeout;
  private refreshing: Promise<void> = Promise.resolve();
  private warnedKinds = new Set<ParseFailureKind>();
  private warming = new Map<string, Promise<void>>();
  private readonly groupBase: string;
  private discovery: TopicDiscovery;
  /** Per partition of the topics that existed at the first start: where this hub began reading (their end then). */
  private startedAt: Positions = new Map();
  /** Per space topic, the apps of its lines from before startedAt (scanned once per topic per node). */
  private retainedApps = new Map<string, Promise<Set<string>>>();

  constructor(private core: Core, opts: HubOptions = {}) {
    this.log = core.logger.child({ component: 'tail-hub' });
    this.metrics = createTailMetrics(core.prom.registry);
    this.opts = {
      groupIdPrefix: opts.groupIdPrefix ?? 'logway-tail',
      topicFilter: opts.topicFilter ?? isLogTopic,
      topicPollMs: opts.topicPollMs ?? 5000,
      ringLinesPerApp: opts.ringLinesPerApp ?? 1500,
      ringMaxBytes: opts.ringMaxBytes ?? 256 * 1024 * 1024,
      historyScanMessages: opts.historyScanMessages ?? 20000,
      readTimeoutMs: opts.readTimeoutMs ?? 15000,
      initialPosition: opts.initialPosition ?? 'latest',
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 4,
      fetchMaxBytes: opts.fetchMaxBytes,
      fetchMinBytes: opts.fetchMinBytes,
      fetchMaxWaitMs: opts.fetchMaxWaitMs,
    };
    this.readbacks = new ReadbackLimiter({
      max: opts.maxConcurrentReadbacks ?? core.config.maxConcurrentReadbacks,
      queueLength: opts.readbackQueueLength ?? 16,
      onRefused: () => this.metrics.sessionsRefused.inc({ reason: 'readbacks' }),
    });
    this.rings = new RingStore({ linesPerApp: this.opts.ringLinesPerApp, maxBytes: this.opts.ringMaxBytes });
    this.groupBase = `${this.opts.groupIdPrefix}-${os.hostname()}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    this.discovery = new TopicDiscovery(core.kafka, this.opts.topicFilter, this.log);
  }

  /** Topics the hub reads now. */
  get topics(): string[] {
    return [...this.partitionsOf.keys()];
  }


  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.core.apps.setDiscovery((appKey) => this.hasRetainedLines(appKey));
    try {
      await this.refreshTopics();
    } catch (err) {
      // Kafka down at start: keep polling; the first successful refresh starts the consumer.
      this.log.error({ err: (err as Error).message }, 'tail hub could not start yet; retrying');
    }
    this.pollTimer = setInterval(() => {
      this.refreshTopics().catch((err) => this.log.warn({ err: (err as Error).message }, 'topic refresh failed'));
    }, this.opts.topicPollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.core.apps.setDiscovery(undefined);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.refreshing.catch(() => undefined);
    const c = this.consumer;
    this.consumer = undefined;
    await c?.stop();
  }

  /** Serialised: a refresh never overlaps another refresh or a consumer restart. */
  refreshTopics(): Promise<void> {
    const next = this.refreshing.catch(() => undefined).then(() => this.doRefresh());
    this.refreshing = next;
    return next;
  }

  private async doRefresh(): Promise<void> {
    if (!this.running) return;
    const { removed } = await this.discovery.refresh();
    const added = this.discovery.topics.filter((t) => !this.partitionsOf.has(t));
    for (const topic of removed) this.dropTopic(topic);
    if (added.length === 0 && removed.length === 0 && this.consumer) return;
    const offsets = await mapLimit(added, 8, async (t) => [t, await this.core.kafka.partitionOffsets(t)] as const);
    for (const [topic, parts] of offsets) {
      this.partitionsOf.set(topic, parts.map((p) => p.partition).sort((a, b) => a - b));
      for (const p of parts) {
        // First start: from now on. A topic that appears later is new: read it from its start,
        // so the first lines of a new space are not lost in the seconds before we noticed it.
        const from = Number(this.initialized || this.opts.initialPosition === 'earliest' ? p.low : p.high);
        this.positions.set(tpKey(topic, p.partition), from);
        if (!this.initialized && from > Number(p.low)) this.startedAt.set(tpKey(topic, p.partition), from);
        if (this.initialized) this.rings.forEach((ring) => ring.coverFrom.set(tpKey(topic, p.partition), from));
      }
    }
    this.initialized = true;
    if (added.length || removed.length) this.log.info({ added: added.length, removed: removed.length, topics: this.partitionsOf.size }, 'tail hub topics changed');
    await this.restartConsumer();
  }

  /**
   * A deleted topic leaves the subscription and the positions: new sessions no longer read it,
   * and a topic re-created under its name is a new one (read from its start).
   */
  private dropTopic(topic: string): void {
    for (const p of this.partitionsOf.get(topic) ?? []) {
      const key = tpKey(topic, p);
      this.positions.delete(key);
      this.lag.delete(key);
      this.startedAt.delete(key);
    }
    this.partitionsOf.delete(topic);
    this.retainedApps.delete(topic);
  }

  /** Re-subscribes over the current topic set, resuming every partition where processing stopped. */
  private async restartConsumer(): Promise<void> {
    const old = this.consumer;
    this.consumer = undefined;
    if (old) await old.stop();
    if (!this.running || this.partitionsOf.size === 0) return;
    const gen = ++this.generation;
    const consumer = await this.core.kafka.consume(
      { groupId: `${this.groupBase}-${gen}`, name: 'tail-hub', topics: this.topics, autoCommit: false, fromBeginning: false, maxBytesPerPartition: this.opts.maxBytesPerPartition, partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently,
        maxBytes: this.opts.fetchMaxBytes, minBytes: this.opts.fetchMinBytes, maxWaitTimeMs: this.opts.fetchMaxWaitMs },
      async (batch) => this.onBatch(batch, gen),
    );
    for (const [key, offset] of this.positions) {
      const { topic, partition } = parseTpKey(key);
      consumer.seek(topic, partition, String(offset));
    }
    consumer.onCrash((err) => {
      // Topics are listed again before the restart: a deleted one (the usual cause) is dropped.
      this.log.error({ err: err?.message }, 'tail hub consumer crashed; restarting');
      if (this.consumer === consumer) {
        this.consumer = undefined;
        setTimeout(() => this.refreshTopics().catch(() => undefined), 1000).unref();
      }
    });
    if (!this.running) {
      await consumer.stop();
      return;
    }
    this.consumer = consumer;
  }

  private onBatch(batch: Batch, gen: number): void {
    // A batch fetched before our seek, or by a consumer being replaced, is not ours to process.
    if (!this.running || gen !== this.generation || batch.isStale()) return;
    const key = tpKey(batch.topic, batch.partition);
    let next = this.positions.get(key) ?? 0;
    let processed = 0;
    for (const rec of batch.records) {
      const off = Number(rec.offset);
      if (off < next) continue;
      this.process(rec);
      next = off + 1;
      processed++;
    }
    this.positions.set(key, next);
    // The consumer fetches from the last resolved offset (nothing is committed: autoCommit off).
    const last = batch.records[batch.records.length - 1];
    if (last) batch.resolveOffset(last.offset);
    if (processed) this.metrics.linesConsumed.inc({ consumer: 'tail' }, processed);
    this.lag.set(key, Math.max(0, Number(batch.highWatermark) - next));
    let max = 0;
    for (const v of this.lag.values()) if (v > max) max = v;
    this.metrics.hubLag.set(max);
  }

  private process(rec: KafkaRecord): void {
    const parsed = parseKafkaMessage(rec);
    if (!parsed.ok) {
      this.metrics.malformed.inc({ kind: parsed.kind });
      if (!this.warnedKinds.has(parsed.kind)) {
        this.warnedKinds.add(parsed.kind);
        this.log.warn({ kind: parsed.kind, reason: parsed.reason, topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'malformed log message skipped');
      }
      return;
    }
    this.registerApp(parsed.line);
    this.deliver(parsed.line, 'app');
    if (parsed.siteLine) this.deliver(parsed.siteLine, 'site');
  }

  /**
   * Whether Kafka holds lines of an app nobody registered: lines this hub did not read because they
   * predate its start (a first deployment against a Kafka that already holds logs). Lines after
   * the start register their app as they pass, and a topic created later is read from its start,
   * so only the space topic's lines before startedAt are scanned — the last historyScanMessages
   * of each partition, once per topic per node, through the read-back limiter (429 when it is
   * full). Every app found is registered; a later unknown app of a scanned space is a 404 at once.
   */
  async hasRetainedLines(appKey: string): Promise<boolean> {
    const topic = topicsFor('app', appKey)[0];
    const parts = this.partitionsOf.get(topic);
    if (!parts || !parts.some((p) => this.startedAt.has(tpKey(topic, p)))) return false;
    let scan = this.retainedApps.get(topic);
    if (!scan) {
      const read = this.scanRetainedApps(topic, parts);
      const apps = read.then((r) => r.apps);
      scan = apps;
      this.retainedApps.set(topic, apps);
      // A failed or partial read (Kafka down, timed out, 429) is tried again by the next request.
      const forget = () => {
        if (this.retainedApps.get(topic) === apps) this.retainedApps.delete(topic);
      };
      read.then((r) => !r.complete && forget(), forget);
    }
    return (await scan).has(appKey);
  }

  private async scanRetainedApps(topic: string, parts: number[]): Promise<{ apps: Set<string>; complete: boolean }> {
    const upTo: Positions = new Map();
    for (const p of parts) {
      const at = this.startedAt.get(tpKey(topic, p));
      if (at !== undefined) upTo.set(tpKey(topic, p), at);
    }
    const low: Positions = new Map();
    for (const p of await this.core.kafka.partitionOffsets(topic)) low.set(tpKey(topic, p.partition), Number(p.low));
    const ranges = this.ranges(low, upTo);
    const { records, complete } = ranges.length ? await this.readBack(ranges) : { records: [], complete: true };
    const apps = new Set<string>();
    for (const rec of records) {
      const parsed = parseKafkaMessage(rec);
      if (parsed.ok && parsed.line.space !== '' && !apps.has(parsed.line.appKey)) {
        apps.add(parsed.line.appKey);
        this.registerApp(parsed.line);
      }
    }
    if (apps.size) this.log.info({ topic, apps: apps.size, complete }, 'apps learned from lines written before this node started');
    return { apps, complete };
  }

  /** Apps are learned from the stream; cached here so only an app's first line costs a query. */
  private registerApp(line: LogLine): void {
    if (line.space === '') return;
    this.core.apps.learn(line.appKey, (err) => this.log.warn({ err: err.message, app: line.appKey }, 'could not register app; will retry'));
  }

  private deliver(line: LogLine, kind: TargetKind): void {
    this.rings.push(line.appKey, line, () => this.snapshot(topicsFor(kind, line.appKey)));
    const subs = this.subscribers.get(line.appKey);
    if (!subs) return;
    for (const s of subs) if (s.filter(line)) s.accept(line);
  }

  /** Next offsets for every known partition of these topics (now, between two batches). */
  snapshot(topics: string[]): Positions {
    const out: Positions = new Map();
    for (const t of topics) {
      const parts = this.partitionsOf.get(t);
      if (!parts) continue;
      for (const p of parts) {
        const k = tpKey(t, p);
        out.set(k, this.positions.get(k) ?? 0);
      }
    }
    return out;
  }

  /** Adds a live subscriber; returns the positions that separate its history from its live lines. */
  subscribe(kind: TargetKind, key: string, sub: Subscriber): Positions {
    let set = this.subscribers.get(key);
    if (!set) this.subscribers.set(key, (set = new Set()));
    set.add(sub);
    return this.snapshot(topicsFor(kind, key));
  }

  unsubscribe(key: string, sub: Subscriber): void {
    const set = this.subscribers.get(key);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.subscribers.delete(key);
  }

  /**
   * The last `lines` lines matching the filter, strictly before `upTo` (a subscription's
   * snapshot), oldest first. From the ring when it can answer; else the ring is first filled
   * from Kafka (once per app per node), and a `since` older than that is read from Kafka.
   */
  async history(req: HistoryRequest, upTo: Positions): Promise<LogLine[]> {
    let ring = this.rings.peek(req.key);
    if (!ring?.warm) {
      await this.warm(req.kind, req.key);
      ring = this.rings.peek(req.key);
    }
    const candidates = ring ? ring.toArray().filter((l) => lineBefore(l, upTo) && req.filter(l)) : [];
    if (candidates.length >= req.lines || ring?.rooted || req.since === undefined) {
      return lastByTime(candidates, req.lines);
    }
    // `since` reaches further back than the ring may: read from the offsets at that time.
    const from = new Map<string, number>();
    for (const topic of new Set([...upTo.keys()].map((k) => parseTpKey(k).topic))) {
      for (const o of await this.core.kafka.offsetsByTimestamp(topic, req.since)) from.set(tpKey(topic, o.partition), Number(o.offset));
    }
    if (ring && ring.covers(from)) return lastByTime(candidates, req.lines);
    const lines = await this.readLines(req.key, this.ranges(from, upTo));
    return lastByTime(lines.filter(req.filter), req.lines);
  }

  /**
   * Lines after a resume cursor and before `upTo`: from the ring when it covers the cursor,
   * else from Kafka. The cursor is the client's text: a position before `floor` (the session's
   * earliest possible start, see resumeFloor) is raised to it, and a partition the cursor does
   * not name starts there too (so a crafted cursor cannot rewind a session past its own start).
   */
  async catchUp(key: string, cursor: Positions, upTo: Positions, filter: (l: LogLine) => boolean, floor: Positions = new Map()): Promise<LogLine[]> {
    const from: Positions = new Map();
    for (const k of upTo.keys()) {
      const low = floor.get(k) ?? 0;
      from.set(k, Math.max(cursor.get(k) ?? low, low));
    }
    const after = (l: LogLine) => Number(l.position.offset) >= (from.get(positionKey(l.position)) ?? 0);
    const ring = this.rings.peek(key);
    if (ring && ring.covers(from)) return ring.toArray().filter((l) => after(l) && lineBefore(l, upTo) && filter(l));
    const lines = await this.readLines(key, this.ranges(from, upTo));
    return lines.filter((l) => after(l) && filter(l)).sort(byTime);
  }

  /**
   * Per partition of `upTo`, the first offset whose Kafka timestamp is at or after `atMs` (the
   * high watermark if none is): no position a session streamed from can be earlier than this
   * when `atMs` is before the session was created.
   */
  async resumeFloor(upTo: Positions, atMs: number): Promise<Positions> {
    const floor: Positions = new Map();
    for (const topic of new Set([...upTo.keys()].map((k) => parseTpKey(k).topic))) {
      for (const o of await this.core.kafka.offsetsByTimestamp(topic, atMs)) floor.set(tpKey(topic, o.partition), Number(o.offset));
    }
    return floor;
  }

  /** [from, upTo) per partition, at most historyScanMessages back. */
  private ranges(from: Positions, upTo: Positions): PartitionRange[] {
    const out: PartitionRange[] = [];
    for (const [k, to] of upTo) {
      const start = Math.max(from.get(k) ?? 0, to - this.opts.historyScanMessages, 0);
      if (start >= to) continue;
      const { topic, partition } = parseTpKey(k);
      out.push({ topic, partition, from: String(start), to: String(to) });
    }
    return out;
  }

  /** Reads ranges from Kafka and keeps the lines of `key` (site lines included for a site). */
  private async readLines(key: string, ranges: PartitionRange[]): Promise<LogLine[]> {
    if (ranges.length === 0) return [];
    const { records } = await this.readBack(ranges);
    const out: LogLine[] = [];
    for (const rec of records) {
      const parsed = parseKafkaMessage(rec);
      if (!parsed.ok) continue;
      if (parsed.line.appKey === key) out.push(parsed.line);
      else if (parsed.siteLine?.appKey === key) out.push(parsed.siteLine);
    }
    return out;
  }

  /** One Kafka read-back, within the node's bound on concurrent ones (429 when its queue is full). */
  private readBack(ranges: PartitionRange[]): Promise<{ records: KafkaRecord[]; complete: boolean }> {
    return this.readbacks.run(() => this.core.kafka.readRanges(ranges, { timeoutMs: this.opts.readTimeoutMs, groupIdPrefix: `${this.groupBase}-read` }));
  }

  /**
   * Fills an app's ring from Kafka (the last historyScanMessages of each of its partitions), so
   * a cold node — just started, or one that evicted the app — serves the right history. Once per
   * app per node; concurrent sessions of one app share one read.
   */
  warm(kind: TargetKind, key: string): Promise<void> {
    let p = this.warming.get(key);
    if (!p) {
      p = this.doWarm(kind, key).finally(() => this.warming.delete(key));
      this.warming.set(key, p);
    }
    return p;
  }

  private async doWarm(kind: TargetKind, key: string): Promise<void> {
    const upTo = this.snapshot(topicsFor(kind, key));
    const low = new Map<string, number>();
    for (const topic of new Set([...upTo.keys()].map((k) => parseTpKey(k).topic))) {
      for (const p of await this.core.kafka.partitionOffsets(topic)) low.set(tpKey(topic, p.partition), Number(p.low));
    }
    const ranges = this.ranges(low, upTo);
    const { records, complete } = ranges.length ? await this.readBack(ranges) : { records: [], complete: true };
    const scanned: LogLine[] = [];
    for (const rec of records) {
      const parsed = parseKafkaMessage(rec);
      if (!parsed.ok) continue;
      if (parsed.line.appKey === key) scanned.push(parsed.line);
      else if (parsed.siteLine?.appKey === key) scanned.push(parsed.siteLine);
    }
    scanned.sort(byTime);
    const coverFrom: Positions = new Map();
    let rooted = complete;
    for (const [k, to] of upTo) {
      const start = ranges.find((r) => tpKey(r.topic, r.partition) === k);
      const from = start ? Number(start.from) : to;
      coverFrom.set(k, from);
      if (from > (low.get(k) ?? 0)) rooted = false;
    }
    const ring = this.rings.touch(key, () => new Map());
    // Lines the hub processed while we read are in the ring already, at or after `upTo`.
    const newer = ring.toArray().filter((l) => !lineBefore(l, upTo));
    this.rings.replace(ring, [...scanned, ...newer], coverFrom, rooted);
    ring.warm = true;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) {
      const j = i++;
      out[j] = await fn(items[j]);
    }
  });
  await Promise.all(workers);
  return out;
}
