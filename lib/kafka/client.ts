/** The one module that imports kafkajs: producer, consumers and admin behind a small interface of ours,
 * so the client can be swapped without touching the hub, drains or builds. */
import crypto from 'node:crypto';
import { Kafka as KafkaJs, logLevel as KafkaLogLevel, Producer, Consumer, Admin, CompressionTypes, Partitioners } from 'kafkajs';
import { PartitionLedger, sendAcknowledged } from './acks';
import { Logger } from '../logger';
import { Unavailable } from '../errors';
import { withTimeout } from '../timeout';
import { registerCompressionCodecs } from './codecs';
import { installUndecodableBatches, undecodableOf, type Undecodable } from './undecodable';
import { isTopicGone } from './topics';
import type { DependencyTracker } from '../dependencies';

// snappy, lz4 and zstd batches (kafkajs has only gzip): without them one such topic crash-loops every consumer.
registerCompressionCodecs();
// An undecodable record batch ends its partition's batch (Batch.undecodable) instead of failing the fetch.
installUndecodableBatches();
export type { Undecodable } from './undecodable';

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch, as a string (Kafka's record timestamp). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface OutgoingRecord {
  key?: string | Buffer | null;
  value: string | Buffer;
  timestamp?: string;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  records: KafkaRecord[];
  /**
   * The partition's next record batch could not be decoded (corrupt, or past a codec's bound):
   * `records` are the ones before it. Until something changes, every fetch of this partition ends
   * there again: never resolve at or past `firstOffset` (the user quarantines the partition).
   */
  undecodable?: Undecodable;
  /** Marks an offset as processed (the committed position becomes offset+1 on the next commit). */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface ConsumerOptions {
  groupId: string;
  /** What readiness and logs call this consumer ('tail-hub', 'drains', 'builds'); default the group id. */
  name?: string;
  /** Topic names or patterns; patterns match the topics that exist when the consumer starts. */
  topics: (string | RegExp)[];
  fromBeginning?: boolean;
  /** false: offsets are committed only through commit()/commitOffsetsIfNecessary after resolveOffset. */
  autoCommit?: boolean;
  /**
   * false: kafkajs never restarts it after a crash (CRASH with restart false: the owner starts a new
   * one). A consumer whose positions live in its owner (seeked at start, never committed) must: a
   * kafkajs restart rejoins the group without them and reads from the end, skipping lines.
   */
  kafkajsRestarts?: boolean;
  /**
   * The caller starts a new consumer when this one gives up (onCrash; lib/kafka/source does): a crash is
   * then "restarting" for readiness and the log, not "will not restart".
   */
  ownerRestarts?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
  /** Longest a fetch waits for data on an idle partition; also bounds how long stop() waits (default 1000). */
  maxWaitTimeMs?: number;
  /** Bytes a fetch response waits for (up to maxWaitTimeMs) before the broker answers (kafkajs default 1). */
  minBytes?: number;
  /** Cap on one fetch response over all partitions (kafkajs default 10 MiB). */
  maxBytes?: number;
}

export interface RunningConsumer {
  stop(): Promise<void>;
  commit(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  seek(topic: string, partition: number, offset: string): void;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  /**
   * Fires when the consumer crashes for good (kafkajs gave up restarting); on a later turn for a
   * listener added after that crash (it can happen while consume() is still joining the group).
   */
  onCrash(listener: (err: Error) => void): void;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Next offset to be written. */
  high: string;
}

/** A half-open offset range [from, to) of one partition, for readRanges. */
export interface PartitionRange {
  topic: string;
  partition: number;
  from: string;
  to: string;
}

export interface ReadRangesOptions {
  /** Give up after this long and return what was read (default 15 s). */
  timeoutMs?: number;
  /** Prefix of the throw-away consumer group (a random suffix is added). */
  groupIdPrefix?: string;
}

export interface ProduceOptions {
  /**
   * false: never create the topic (kafkajs takes this per producer, not per send, so such writes
   * go through a second producer made with allowAutoTopicCreation false). Default true.
   */
  autoCreateTopic?: boolean;
}

export interface LogwayKafka {
  produce(topic: string, records: OutgoingRecord[], opts?: ProduceOptions): Promise<void>;
  consume(opts: ConsumerOptions, eachBatch: (batch: Batch) => Promise<void>): Promise<RunningConsumer>;
  listTopics(): Promise<string[]>;
  /** Every topic with its partition count, in one metadata request (what listTopics asks for too). */
  topicPartitions(): Promise<{ topic: string; partitions: number }[]>;
  createTopic(topic: string, partitions?: number): Promise<void>;
  partitionOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** For each partition, the first offset whose timestamp is ≥ ts (or the high watermark). */
  offsetsByTimestamp(topic: string, ts: number): Promise<{ partition: number; offset: string }[]>;
  /**
   * One-shot read of offset ranges (history back-fill): a throw-away consumer (own group, no
   * commits) seeks each partition to `from` and collects records until `to`. Records come back
   * grouped by partition, in offset order. On timeout, what was read so far is returned.
   */
  readRanges(ranges: PartitionRange[], opts?: ReadRangesOptions): Promise<{ records: KafkaRecord[]; complete: boolean }>;
  ping(timeoutMs: number): Promise<void>;
  /**
   * Starts a brand-new consumer group at the current end of `topics`: if the group has no
   * committed offset on any partition of `topics` and no running member, commits every
   * partition's high watermark for it and returns true. Returns false, changing nothing, when the
   * group already has offsets (or members). A consumer that then subscribes with
   * `fromBeginning: true` resumes these topics from now, and reads any topic the group never
   * committed on (created later) from its start.
   */
  startGroupAtEnd(groupId: string, topics: string[]): Promise<boolean>;
  close(): Promise<void>;
}

/** kafkajs says each connection failure once per broker and retry: the dependency tracker says the outage once. */
const CONNECTION_FAILURE =
  /connect(ion)? (error|timeout)|Failed to connect|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Closed connection|socket hang up|broker not connected|not connected/i;

/**
 * kafkajs lines that the dependency tracker already says (a consumer's crash and kafkajs restarting
 * it: `Kafka consumer crashed; restarting`, once per crash loop) or that are routine (a member told
 * to rejoin while its group rebalances, as every restart and every new drain process causes).
 */
const SAID_ELSEWHERE = /^(Crash: |Restarting the consumer in )|The group is rebalancing, so a rejoin is needed/;

/**
 * kafkajs's own log lines, mapped to our levels (its ERROR → warn, WARN → info, the rest debug;
 * connection failures and SAID_ELSEWHERE → debug, since the tracker says them) and rate-limited: at
 * most one line per distinct namespace+message per `windowMs`, the next one carrying how many were
 * suppressed.
 */
export function kafkaLogCreator(log: Logger, dependencies?: DependencyTracker, windowMs = 30_000, now: () => number = Date.now) {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return () =>
    ({ namespace, level, label, log: entry }: { namespace: string; level: number; label: string; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _ts, logger: _logger, ...extra } = entry;
      const text = `${message} ${String(extra.error ?? '')}`;
      const connection = level <= KafkaLogLevel.ERROR && CONNECTION_FAILURE.test(text);
      if (connection) dependencies?.down('kafka', `${message}${extra.error ? `: ${String(extra.error)}` : ''}`);
      const quiet = connection || SAID_ELSEWHERE.test(text);
      const fn = quiet ? 'debug' : level <= KafkaLogLevel.ERROR ? 'warn' : level === KafkaLogLevel.WARN ? 'info' : 'debug';
      if (!log.isLevelEnabled(fn)) return;
      const key = `${namespace}\u0000${message}`;
      const t = now();
      const last = seen.get(key);
      if (last && t - last.at < windowMs) {
        last.suppressed++;
        return;
      }
      seen.set(key, { at: t, suppressed: 0 });
      if (seen.size > 1000) for (const [k, v] of seen) if (t - v.at >= windowMs) seen.delete(k);
      log[fn]({ namespace, kafkaLevel: label, ...extra, ...(last?.suppressed ? { suppressed: last.suppressed } : {}) }, message);
    };
}

/**
 * Retries of logway's own writes: about 20 s of backoff (0.2, 0.4 … 5 s), longer than a leader
 * election after a broker's death (KRaft fences it after broker.session.timeout.ms, 9 s by
 * default), short enough that POST /log-events answers 503 rather than hang when Kafka is gone.
 */
const PRODUCER_RETRY = { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 };

export function createKafka(opts: { brokers: string[]; clientId: string; logger: Logger; dependencies?: DependencyTracker }): LogwayKafka {
  const log = opts.logger.child({ component: 'kafka' });
  const deps = opts.dependencies;
  /** Our error for a failed call (sent at `askedAt`); a connection-level one is an outage for the tracker. */
  const unavailable = (e: unknown, askedAt?: number): unknown => {
    const out = kafkaUnavailable(e);
    if (isConnectionFailure(e)) deps?.failed(out, askedAt);
    return out;
  };
  /** A call sent at `askedAt` was answered (lib/dependencies: answers to calls older than an outage do not end it). */
  const answered = (askedAt: number) => deps?.up('kafka', askedAt);
  const kafka = new KafkaJs({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(log, deps),
  });

  /** Keyed by allowAutoTopicCreation; each connected on first use. */
  const producersReady = new Map<boolean, Promise<Producer>>();
  const producers = new Set<Producer>();
  let admin: Admin | undefined;
  let adminReady: Promise<Admin> | undefined;
  const consumers = new Set<Consumer>();

  /** Each message's partition, so a send kafkajs resolved with a partition left out is completed (./acks). */
  const ledger = new PartitionLedger();
  /** Sends of the idempotent producer, one at a time (see getProducer). */
  let idempotentChain: Promise<unknown> = Promise.resolve();

  /**
   * logway's own writes (POST /log-events, which never creates a topic) go through an idempotent
   * producer: acks=all plus producer sequence numbers, so a send retried through a leader election
   * is written once. kafkajs keeps those sequences right only with one request in flight and one
   * send at a time (tulios/kafkajs#598), so its sends are queued. The auto-creating producer (test
   * and benchmark fill, many sends in flight) stays plain acks=all.
   */
  function getProducer(autoCreateTopic: boolean): Promise<Producer> {
    let ready = producersReady.get(autoCreateTopic);
    if (!ready) {
      const idempotent = !autoCreateTopic;
      const p = kafka.producer({
        createPartitioner: () => ledger.wrap(Partitioners.DefaultPartitioner()),
        allowAutoTopicCreation: autoCreateTopic,
        idempotent,
        ...(idempotent ? { maxInFlightRequests: 1, retry: PRODUCER_RETRY } : {}),
      });
      ready = p.connect().then(
        () => {
          producers.add(p);
          return p;
        },
        (e) => {
          producersReady.delete(autoCreateTopic);
          throw e;
        },
      );
      producersReady.set(autoCreateTopic, ready);
    }
    return ready;
  }

  function getAdmin(): Promise<Admin> {
    if (!adminReady) {
      const a = kafka.admin();
      adminReady = a.connect().then(
        () => (admin = a),
        (e) => {
          adminReady = undefined;
          throw e;
        },
      );
    }
    return adminReady;
  }

  async function withAdmin<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const askedAt = Date.now();
      try {
        const out = await fn(await getAdmin());
        answered(askedAt);
        return out;
      } catch (e) {
        // kafkajs's admin names every topic it was ever asked about in each metadata request, so
        // one deleted topic fails all its later calls: a new admin, once, forgets it.
        if (attempt === 0 && isTopicGone(e)) {
          const old = admin;
          admin = undefined;
          adminReady = undefined;
          void old?.disconnect().catch(() => undefined);
          continue;
        }
        throw unavailable(e, askedAt);
      }
    }
  }

  return {
    async produce(topic, records, popts = {}) {
      const askedAt = Date.now();
      try {
        const autoCreate = popts.autoCreateTopic ?? true;
        const p = await getProducer(autoCreate);
        const send = () => sendAcknowledged(ledger, (messages) => p.send({ topic, acks: -1, compression: CompressionTypes.None, messages }), records);
        if (autoCreate) {
          await send();
        } else {
          const sent = idempotentChain.then(send, send);
          idempotentChain = sent.catch(() => undefined);
          await sent.catch(async (e) => {
            // A failed idempotent send leaves its sequence state unknown (OUT_OF_ORDER_SEQUENCE_NUMBER
            // would follow forever): the next send starts with a fresh producer id.
            if (producersReady.has(false)) {
              producersReady.delete(false);
              producers.delete(p);
              await p.disconnect().catch(() => undefined);
            }
            throw e;
          });
        }
        answered(askedAt);
      } catch (e) {
        throw unavailable(e, askedAt);
      }
    },

    async consume(copts, eachBatch) {
      const consumer = kafka.consumer({
        groupId: copts.groupId,
        sessionTimeout: copts.sessionTimeoutMs ?? 30000,
        maxBytesPerPartition: copts.maxBytesPerPartition,
        maxWaitTimeInMs: copts.maxWaitTimeMs ?? 1000,
        ...(copts.minBytes !== undefined ? { minBytes: copts.minBytes } : {}),
        ...(copts.maxBytes !== undefined ? { maxBytes: copts.maxBytes } : {}),
        allowAutoTopicCreation: false,
        // A deleted topic fails every restart: give it back to the owner (onCrash), which re-lists
        // the topics and resubscribes without it, instead of kafkajs retrying it every 200 ms.
        retry: { retries: 5, restartOnFailure: async (e: Error) => copts.kafkajsRestarts !== false && !isTopicGone(e) },
      });
      consumers.add(consumer);
      const name = copts.name ?? copts.groupId;
      const crashListeners: ((err: Error) => void)[] = [];
      /** Its crash for good, if any: a listener added after it still hears of it. */
      let gaveUp: Error | undefined;
      /** eachBatch threw since the last batch it handled: a fetch alone is not progress then. */
      let failing = false;
      consumer.on(consumer.events.CRASH, (ev) => {
        const err = ev.payload.error as Error;
        // Said once per crash loop by the tracker (and readiness names the consumer), not once per crash here.
        log.debug({ groupId: copts.groupId, err: err?.message, restart: ev.payload.restart }, 'consumer crashed');
        if (isConnectionFailure(err)) deps?.down('kafka', err?.message);
        deps?.consumerCrashed(name, err?.message ?? String(err), ev.payload.restart || copts.ownerRestarts === true);
        if (ev.payload.restart) return;
        gaveUp = err;
        crashListeners.forEach((l) => l(err));
      });
      consumer.on(consumer.events.FETCH, (ev) => {
        answered(Date.now() - ev.payload.duration);
        if (!failing) deps?.consumerProgressed(name);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: copts.topics, fromBeginning: copts.fromBeginning ?? false });
      } catch (e) {
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
        throw unavailable(e);
      }
      await consumer.run({
        autoCommit: copts.autoCommit ?? true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: copts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          failing = true;
          const messages = batch.messages;
          const undecodable = messages.length ? undecodableOf(messages[messages.length - 1]) : undefined;
          await eachBatch({
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            ...(undecodable ? { undecodable } : {}),
            records: (undecodable ? messages.slice(0, -1) : messages).map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              timestamp: m.timestamp,
              key: m.key,
              value: m.value,
            })),
            resolveOffset,
            heartbeat,
            commitOffsetsIfNecessary: () => commitOffsetsIfNecessary(),
            isRunning,
            isStale,
          });
          failing = false;
          deps?.consumerProgressed(name);
        },
      });
      return {
        async stop() {
          consumers.delete(consumer);
          deps?.consumerStopped(name);
          await consumer.disconnect().catch(() => undefined);
        },
        commit: (offsets) => consumer.commitOffsets(offsets),
        seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
        pause: (t) => consumer.pause(t),
        resume: (t) => consumer.resume(t),
        onCrash: (l) => {
          crashListeners.push(l);
          const err = gaveUp;
          if (err) setImmediate(() => l(err));
        },
      };
    },

    listTopics: () => withAdmin((a) => a.listTopics()),

    topicPartitions: () => withAdmin(async (a) => (await a.fetchTopicMetadata()).topics.map((t) => ({ topic: t.name, partitions: t.partitions.length }))),

    createTopic: (topic, partitions = 3) =>
      withAdmin(async (a) => {
        await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      }),

    partitionOffsets: (topic) => withAdmin(async (a) => (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }))),

    offsetsByTimestamp: (topic, ts) =>
      withAdmin(async (a) => (await a.fetchTopicOffsetsByTimestamp(topic, ts)).map((p) => ({ partition: p.partition, offset: p.offset }))),

    async readRanges(ranges, ropts = {}) {
      const wanted = new Map<string, { from: bigint; to: bigint; records: KafkaRecord[] }>();
      for (const r of ranges) {
        const from = BigInt(r.from);
        const to = BigInt(r.to);
        if (from < to) wanted.set(`${r.topic}:${r.partition}`, { from, to, records: [] });
      }
      if (wanted.size === 0) return { records: [], complete: true };
      const topics = [...new Set(ranges.filter((r) => wanted.has(`${r.topic}:${r.partition}`)).map((r) => r.topic))];
      const remaining = new Set(wanted.keys());
      /** Partitions whose range runs into an undecodable batch: not complete, and not waited for. */
      const undecodables: ({ topic: string; partition: number } & Undecodable)[] = [];
      const consumer = kafka.consumer({
        groupId: `${ropts.groupIdPrefix ?? 'logway-read'}-${crypto.randomUUID()}`,
        sessionTimeout: 10000,
        maxWaitTimeInMs: 100,
        allowAutoTopicCreation: false,
      });
      consumers.add(consumer);
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const timer = setTimeout(() => finish(), ropts.timeoutMs ?? 15000);
      try {
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, isStale, resolveOffset }) => {
            const key = `${batch.topic}:${batch.partition}`;
            const w = wanted.get(key);
            // A batch fetched before our seek took effect is stale: its offsets are not ours.
            if (!w || !remaining.has(key) || isStale()) return;
            let messages = batch.messages;
            const undecodable = messages.length ? undecodableOf(messages[messages.length - 1]) : undefined;
            if (undecodable) {
              // What comes before it is read; the range ends there (the read is reported incomplete).
              messages = messages.slice(0, -1);
              if (BigInt(undecodable.firstOffset) < w.to) {
                remaining.delete(key);
                undecodables.push({ topic: batch.topic, partition: batch.partition, ...undecodable });
              }
            }
            for (const m of messages) {
              const o = BigInt(m.offset);
              if (o < w.from) continue;
              if (o >= w.to) {
                remaining.delete(key);
                break;
              }
              w.records.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value });
              if (o >= w.to - 1n) {
                remaining.delete(key);
                break;
              }
            }
            // The next fetch starts after the last resolved offset (nothing is committed).
            const last = messages[messages.length - 1];
            if (last) resolveOffset(last.offset);
            if (!remaining.has(key)) consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
            if (remaining.size === 0) finish();
          },
        });
        for (const r of ranges) {
          const w = wanted.get(`${r.topic}:${r.partition}`);
          if (w) consumer.seek({ topic: r.topic, partition: r.partition, offset: w.from.toString() });
        }
        await finished;
      } catch (e) {
        throw unavailable(e);
      } finally {
        clearTimeout(timer);
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
      }
      if (remaining.size > 0) log.warn({ unfinished: [...remaining] }, 'readRanges timed out; returning a partial read');
      for (const u of undecodables) log.warn(u, 'readRanges stopped at an undecodable record batch; returning a partial read');
      return { records: [...wanted.values()].flatMap((w) => w.records), complete: remaining.size === 0 && undecodables.length === 0 };
    },

    async startGroupAtEnd(groupId, topics) {
      if (topics.length === 0) return false;
      const a = await getAdmin().catch((e) => {
        throw unavailable(e);
      });
      let ends: { topic: string; partitions: { partition: number; offset: string }[] }[];
      try {
        const committed = await a.fetchOffsets({ groupId, topics });
        if (committed.some((t) => t.partitions.some((p) => Number(p.offset) >= 0))) return false;
        const { groups } = await a.describeGroups([groupId]);
        const state = groups[0]?.state;
        if (state && state !== 'Empty' && state !== 'Dead') return false;
        ends = await Promise.all(
          topics.map(async (topic) => ({
            topic,
            partitions: (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high })),
          })),
        );
      } catch (e) {
        throw unavailable(e);
      }
      // Offsets are committed by a member of the group: a short-lived one that joins alone (the
      // group has no members), takes every partition, commits the ends and leaves without reading.
      const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
      consumers.add(consumer);
      try {
        let joined: () => void = () => undefined;
        const join = new Promise<void>((resolve) => (joined = resolve));
        consumer.on(consumer.events.GROUP_JOIN, () => joined());
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: false });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
        consumer.pause(topics.map((topic) => ({ topic })));
        await withTimeout(join, 30_000, 'Kafka group join');
        await consumer.commitOffsets(ends.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset }))));
        return true;
      } catch (e) {
        throw unavailable(e);
      } finally {
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
      }
    },

    async ping(timeoutMs) {
      const askedAt = Date.now();
      await withTimeout(
        (async () => {
          const a = await getAdmin();
          await a.describeCluster();
          answered(askedAt);
        })().catch((e) => {
          throw unavailable(e, askedAt);
        }),
        timeoutMs,
        'Kafka',
      );
    },

    async close() {
      await Promise.all([...consumers].map((c) => c.disconnect().catch(() => undefined)));
      consumers.clear();
      await Promise.all([...producers].map((p) => p.disconnect().catch(() => undefined)));
      producers.clear();
      producersReady.clear();
      if (admin) await admin.disconnect().catch(() => undefined);
      admin = undefined;
      adminReady = undefined;
    },
  };
}

function kafkaUnavailable(e: unknown): unknown {
  if (e instanceof Unavailable) return e;
  return new Unavailable('Kafka', (e as Error)?.message);
}

const CONNECTION_ERRORS = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound']);

/** A failure to reach the brokers (not a refusal such as an unknown topic), looking through kafkajs's retry wrappers. */
function isConnectionFailure(e: unknown): boolean {
  for (let err = e as { name?: string; message?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (CONNECTION_ERRORS.has(err.name ?? '') || CONNECTION_FAILURE.test(err.message ?? '') || /no answer within/.test(err.message ?? '')) return true;
    err = (err.originalError ?? err.cause) as typeof err;
  }
  return false;
}
