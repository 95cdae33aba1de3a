/**
 * The Kafka client candidates of issue 10 behind one small interface: what logway's log source
 * needs from a client to read a topic — start each partition at a given offset and hand over
 * per-partition batches of raw message values. Counting and JSON parsing are done by the caller
 * (bench/kafka-clients/child.ts), the same code for every candidate.
 *
 * `@platformatic/kafka` and `@confluentinc/kafka-javascript` are installed in
 * bench/kafka-clients/node_modules only (not dependencies of logway), so they are loaded with a
 * dynamic import of a computed name and typed here by the few members used: `tsc -p .` type-checks
 * bench/ and must pass where they are not installed.
 */
import { Kafka, logLevel } from 'kafkajs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerCompressionCodecs } from '../../lib/kafka/codecs';

export interface ValueBatch {
  partition: number;
  values: (Buffer | null)[];
}

export interface StartOffset {
  partition: number;
  offset: string;
}

export interface CandidateSource {
  /**
   * Reads `topic` from the given offset of each partition, calling onBatch for each per-partition
   * batch; onError for an error the client reports but does not throw from start().
   */
  start(topic: string, from: StartOffset[], onBatch: (b: ValueBatch) => void, onError: (e: Error) => void): Promise<void>;
  stop(): Promise<void>;
}

export interface CandidateOptions {
  broker: string;
  groupId: string;
}

/** Loads a package installed in bench/kafka-clients/node_modules (CommonJS or ESM). */
async function load(name: string): Promise<unknown> {
  const req = createRequire(path.join(__dirname, 'package.json'));
  try {
    return req(name) as unknown;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM' && (e as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
    return import(req.resolve(name));
  }
}

/** kafkajs 2.x (logway's client today), group subscription + seek, with lib/kafka/codecs.ts registered. */
export function kafkajs(o: CandidateOptions): CandidateSource {
  registerCompressionCodecs();
  const kafka = new Kafka({ clientId: 'bench-kc', brokers: [o.broker], logLevel: logLevel.NOTHING });
  // The settings of lib/kafka/consumer.ts (maxWaitTimeInMs 1000; kafkajs's default fetch sizes).
  const consumer = kafka.consumer({ groupId: o.groupId, sessionTimeout: 30000, maxWaitTimeInMs: 1000 });
  return {
    async start(topic, from, onBatch) {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          const values = new Array<Buffer | null>(batch.messages.length);
          for (let i = 0; i < values.length; i++) values[i] = batch.messages[i].value;
          onBatch({ partition: batch.partition, values });
          // Handled: the next fetch starts after it (without this kafkajs fetches the batch again).
          if (values.length) resolveOffset(batch.lastOffset());
        },
      });
      // A fresh group with fromBeginning starts at each partition's first offset; seek() right
      // after run() re-reads what the first fetch already returned (measured: a 20k topic counted
      // 80k), so only the partitions that start elsewhere are sought.
      for (const f of from) if (f.offset !== '0') consumer.seek({ topic, partition: f.partition, offset: f.offset });
    },
    stop: () => consumer.disconnect(),
  };
}

interface PlatformaticMessage {
  partition: number;
  value: Buffer | null;
}
interface PlatformaticStream {
  on(event: 'data', fn: (m: PlatformaticMessage) => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
  close(): Promise<void>;
}
interface PlatformaticConsumer {
  consume(opts: Record<string, unknown>): Promise<PlatformaticStream>;
  close(force?: boolean): Promise<void>;
}

/** @platformatic/kafka 1.x: a group consumer's message stream in MANUAL mode (the given offsets). */
export function platformatic(o: CandidateOptions): CandidateSource {
  let consumer: PlatformaticConsumer | undefined;
  let stream: PlatformaticStream | undefined;
  return {
    async start(topic, from, onBatch, onError) {
      const mod = (await load('@platformatic/kafka')) as { Consumer: new (opts: Record<string, unknown>) => PlatformaticConsumer };
      consumer = new mod.Consumer({ clientId: 'bench-kc', groupId: o.groupId, bootstrapBrokers: [o.broker], maxWaitTime: 1000 });
      stream = await consumer.consume({
        topics: [topic],
        mode: 'manual',
        offsets: from.map((f) => ({ topic, partition: f.partition, offset: BigInt(f.offset) })),
        autocommit: false,
      });
      // The stream hands over one message at a time: consecutive messages of one partition are
      // gathered into a batch, flushed when the partition changes or on the next turn of the loop.
      let partition = -1;
      let values: (Buffer | null)[] = [];
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        if (values.length) onBatch({ partition, values });
        values = [];
      };
      stream.on('error', onError);
      stream.on('data', (m) => {
        if (m.partition !== partition) {
          flush();
          partition = m.partition;
        }
        values.push(m.value);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async stop() {
      await stream?.close();
      await consumer?.close(true);
    },
  };
}

interface CkjsBatch {
  topic: string;
  partition: number;
  messages: { value: Buffer | null }[];
  lastOffset(): string;
}
interface CkjsConsumer {
  connect(): Promise<void>;
  subscribe(o: { topics: string[] }): Promise<void>;
  run(o: Record<string, unknown>): Promise<void>;
  seek(o: { topic: string; partition: number; offset: string }): void;
  disconnect(): Promise<void>;
}
interface CkjsModule {
  KafkaJS: { Kafka: new (o: Record<string, unknown>) => { consumer(o: Record<string, unknown>): CkjsConsumer } };
  KafkaConsumer: new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => RdConsumer;
}
interface RdMessage {
  partition: number;
  value: Buffer | null;
}
interface RdConsumer {
  connect(o: Record<string, unknown>, cb: (err: Error | null) => void): void;
  assign(a: { topic: string; partition: number; offset: number }[]): void;
  consume(n: number, cb: (err: Error | null, messages: RdMessage[]) => void): void;
  setDefaultConsumeTimeout(ms: number): void;
  disconnect(cb: () => void): void;
}

/** Extra librdkafka / js settings for the confluent candidates, e.g. CKJS_CONF='{"js.consumer.max.batch.size":-1}'. */
const CKJS_CONF = JSON.parse(process.env.CKJS_CONF ?? '{}') as Record<string, unknown>;

/**
 * @confluentinc/kafka-javascript 1.x (librdkafka), its KafkaJS-compatible promise API: group
 * subscription, eachBatch, seek. js.consumer.max.batch.size defaults to 32 messages per eachBatch:
 * raised to 1000 here (what a log source would use; CKJS_CONF overrides).
 */
export function confluentKafkajs(o: CandidateOptions): CandidateSource {
  let consumer: CkjsConsumer | undefined;
  return {
    async start(topic, from, onBatch) {
      const mod = (await load('@confluentinc/kafka-javascript')) as CkjsModule;
      const kafka = new mod.KafkaJS.Kafka({ kafkaJS: { brokers: [o.broker], clientId: 'bench-kc', logLevel: 0 } });
      consumer = kafka.consumer({
        kafkaJS: { groupId: o.groupId, fromBeginning: true, autoCommit: false },
        'js.consumer.max.batch.size': 1000,
        ...CKJS_CONF,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }: { batch: CkjsBatch; resolveOffset(o: string): void }) => {
          const values = new Array<Buffer | null>(batch.messages.length);
          for (let i = 0; i < values.length; i++) values[i] = batch.messages[i].value;
          onBatch({ partition: batch.partition, values });
          if (values.length) resolveOffset(batch.lastOffset());
        },
      });
      for (const f of from) if (f.offset !== '0') consumer.seek({ topic, partition: f.partition, offset: f.offset });
    },
    stop: async () => consumer?.disconnect(),
  };
}

/**
 * @confluentinc/kafka-javascript's node-rdkafka-style API: manual assignment at the offsets and
 * consume(n) in a loop (like kcat without -G). Messages of several partitions come in one array
 * and are split into per-partition runs.
 */
export function confluentNative(o: CandidateOptions): CandidateSource {
  let consumer: RdConsumer | undefined;
  let running = true;
  const n = Number(process.env.CKJS_CONSUME_N ?? 1000);
  return {
    async start(topic, from, onBatch, onError) {
      const mod = (await load('@confluentinc/kafka-javascript')) as CkjsModule;
      const c = new mod.KafkaConsumer(
        { 'metadata.broker.list': o.broker, 'group.id': o.groupId, 'enable.auto.commit': false, 'client.id': 'bench-kc', ...CKJS_CONF },
        {},
      );
      consumer = c;
      await new Promise<void>((resolve, reject) => c.connect({}, (err) => (err ? reject(err) : resolve())));
      c.assign(from.map((f) => ({ topic, partition: f.partition, offset: Number(f.offset) })));
      c.setDefaultConsumeTimeout(1000);
      const loop = () => {
        if (!running) return;
        c.consume(n, (err, messages) => {
          if (err) return onError(err);
          let i = 0;
          while (i < messages.length) {
            const partition = messages[i].partition;
            const values: (Buffer | null)[] = [];
            while (i < messages.length && messages[i].partition === partition) values.push(messages[i++].value);
            onBatch({ partition, values });
          }
          setImmediate(loop);
        });
      };
      loop();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        running = false;
        if (!consumer) return resolve();
        consumer.disconnect(() => resolve());
      }),
  };
}

export const candidates: Record<string, (o: CandidateOptions) => CandidateSource> = {
  kafkajs,
  platformatic,
  'confluent-kafkajs': confluentKafkajs,
  'confluent-native': confluentNative,
};
