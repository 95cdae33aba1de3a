/** The one module that imports kafkajs: producer, consumers and admin behind a small interface of ours,
 * so the client can be swapped without touching the hub, drains or builds. */
import { Kafka as KafkaJs, logLevel as KafkaLogLevel, Producer, Consumer, Admin, CompressionTypes } from 'kafkajs';
import { Logger } from './logger';
import { Unavailable } from './errors';
import { withTimeout } from './db';

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
  /** Marks an offset as processed (the committed position becomes offset+1 on the next commit). */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface ConsumerOptions {
  groupId: string;
  /** Topic names or patterns; patterns match the topics that exist when the consumer starts. */
  topics: (string | RegExp)[];
  fromBeginning?: boolean;
  /** false: offsets are committed only through commit()/commitOffsetsIfNecessary after resolveOffset. */
  autoCommit?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
}

export interface RunningConsumer {
  stop(): Promise<void>;
  commit(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  seek(topic: string, partition: number, offset: string): void;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  /** Fires when the consumer crashes for good (kafkajs gave up restarting). */
  onCrash(listener: (err: Error) => void): void;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Next offset to be written. */
  high: string;
}

export interface LogwayKafka {
  produce(topic: string, records: OutgoingRecord[]): Promise<void>;
  consume(opts: ConsumerOptions, eachBatch: (batch: Batch) => Promise<void>): Promise<RunningConsumer>;
  listTopics(): Promise<string[]>;
  createTopic(topic: string, partitions?: number): Promise<void>;
  partitionOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** For each partition, the first offset whose timestamp is ≥ ts (or the high watermark). */
  offsetsByTimestamp(topic: string, ts: number): Promise<{ partition: number; offset: string }[]>;
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function createKafka(opts: { brokers: string[]; clientId: string; logger: Logger }): LogwayKafka {
  const log = opts.logger.child({ component: 'kafka' });
  const kafka = new KafkaJs({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => ({ namespace, level, label, log: entry }) => {
      const { message, ...extra } = entry;
      const fn = level <= KafkaLogLevel.ERROR ? 'error' : level === KafkaLogLevel.WARN ? 'warn' : 'debug';
      log[fn]({ namespace, kafkaLevel: label, ...extra }, message);
    },
  });

  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  let admin: Admin | undefined;
  let adminReady: Promise<Admin> | undefined;
  const consumers = new Set<Consumer>();

  function getProducer(): Promise<Producer> {
    if (!producerReady) {
      const p = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
      producerReady = p.connect().then(
        () => (producer = p),
        (e) => {
          producerReady = undefined;
          throw e;
        },
      );
    }
    return producerReady;
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
    try {
      return await fn(await getAdmin());
    } catch (e) {
      throw kafkaUnavailable(e);
    }
  }

  return {
    async produce(topic, records) {
      try {
        const p = await getProducer();
        await p.send({ topic, acks: -1, compression: CompressionTypes.None, messages: records });
      } catch (e) {
        throw kafkaUnavailable(e);
      }
    },

    async consume(copts, eachBatch) {
      const consumer = kafka.consumer({
        groupId: copts.groupId,
        sessionTimeout: copts.sessionTimeoutMs ?? 30000,
        maxBytesPerPartition: copts.maxBytesPerPartition,
        allowAutoTopicCreation: false,
      });
      consumers.add(consumer);
      const crashListeners: ((err: Error) => void)[] = [];
      consumer.on(consumer.events.CRASH, (ev) => {
        const err = ev.payload.error as Error;
        log.error({ groupId: copts.groupId, err: err?.message, restart: ev.payload.restart }, 'consumer crashed');
        if (!ev.payload.restart) crashListeners.forEach((l) => l(err));
      });
      await consumer.connect();
      await consumer.subscribe({ topics: copts.topics, fromBeginning: copts.fromBeginning ?? false });
      await consumer.run({
        autoCommit: copts.autoCommit ?? true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: copts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          await eachBatch({
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            records: batch.messages.map((m) => ({
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
        },
      });
      return {
        async stop() {
          consumers.delete(consumer);
          await consumer.disconnect().catch(() => undefined);
        },
        commit: (offsets) => consumer.commitOffsets(offsets),
        seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
        pause: (t) => consumer.pause(t),
        resume: (t) => consumer.resume(t),
        onCrash: (l) => crashListeners.push(l),
      };
    },

    listTopics: () => withAdmin((a) => a.listTopics()),

    createTopic: (topic, partitions = 3) =>
      withAdmin(async (a) => {
        await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      }),

    partitionOffsets: (topic) =>
      withAdmin(async (a) => (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }))),

    offsetsByTimestamp: (topic, ts) =>
      withAdmin(async (a) => (await a.fetchTopicOffsetsByTimestamp(topic, ts)).map((p) => ({ partition: p.partition, offset: p.offset }))),

    async ping(timeoutMs) {
      await withTimeout(
        (async () => {
          const a = await getAdmin();
          await a.describeCluster();
        })().catch((e) => {
          throw kafkaUnavailable(e);
        }),
        timeoutMs,
        'Kafka',
      );
    },

    async close() {
      await Promise.all([...consumers].map((c) => c.disconnect().catch(() => undefined)));
      consumers.clear();
      if (producer) await producer.disconnect().catch(() => undefined);
      if (admin) await admin.disconnect().catch(() => undefined);
      producer = admin = undefined;
      producerReady = adminReady = undefined;
    },
  };
}

function kafkaUnavailable(e: unknown): unknown {
  if (e instanceof Unavailable) return e;
  return new Unavailable('Kafka', (e as Error)?.message);
}
