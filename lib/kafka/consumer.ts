/** A long-running consumer group member (the log source's): kafkajs's consumer behind RunningConsumer. */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { disconnectConsumer, type KafkaConnection } from './connection';
import { isConnectionFailure } from './failures';
import { isTopicGone } from './topics';
import type { ConsumerOptions, FetchedBatch, KafkaRecord, RunningConsumer } from './types';
import { undecodableOf } from './undecodable';

/** The records of a kafkajs batch, less the marker of an undecodable record batch (./undecodable) if it ends at one. */
export function fetchedRecords(batch: EachBatchPayload['batch']): Pick<FetchedBatch, 'records' | 'undecodable'> {
  const messages = batch.messages;
  const undecodable = messages.length ? undecodableOf(messages[messages.length - 1]) : undefined;
  const records: KafkaRecord[] = (undecodable ? messages.slice(0, -1) : messages).map((m) => ({
    topic: batch.topic,
    partition: batch.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
  }));
  return undecodable ? { records, undecodable } : { records };
}

function newConsumer(conn: KafkaConnection, copts: ConsumerOptions): Consumer {
  return conn.kafka.consumer({
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
}

/** What a consumer's events tell: crashes (for good: to the onCrash listeners) and fetches, to the tracker. */
interface ConsumerWatch {
  /** eachBatch threw since the last batch it handled: a fetch alone is not progress then. */
  failing: boolean;
  onCrash(listener: (err: Error) => void): void;
}

function watchConsumer(conn: KafkaConnection, consumer: Consumer, copts: ConsumerOptions, name: string): ConsumerWatch {
  const { deps } = conn;
  const crashListeners: ((err: Error) => void)[] = [];
  /** Its crash for good, if any: a listener added after it still hears of it. */
  let gaveUp: Error | undefined;
  const watch: ConsumerWatch = {
    failing: false,
    onCrash: (l) => {
      crashListeners.push(l);
      const err = gaveUp;
      if (err) setImmediate(() => l(err));
    },
  };
  consumer.on(consumer.events.CRASH, (ev) => {
    const err = ev.payload.error as Error;
    // Said once per crash loop by the tracker (and readiness names the consumer), not once per crash here.
    conn.log.debug({ groupId: copts.groupId, err: err?.message, restart: ev.payload.restart }, 'consumer crashed');
    if (isConnectionFailure(err)) deps?.down('kafka', err?.message);
    deps?.consumerCrashed(name, err?.message ?? String(err), ev.payload.restart || copts.ownerRestarts === true);
    if (ev.payload.restart) return;
    gaveUp = err;
    crashListeners.forEach((l) => l(err));
  });
  consumer.on(consumer.events.FETCH, (ev) => {
    conn.answered(Date.now() - ev.payload.duration);
    if (!watch.failing) deps?.consumerProgressed(name);
  });
  return watch;
}

export async function consume(conn: KafkaConnection, copts: ConsumerOptions, eachBatch: (batch: FetchedBatch) => Promise<void>): Promise<RunningConsumer> {
  const consumer = newConsumer(conn, copts);
  conn.consumers.add(consumer);
  const name = copts.name ?? copts.groupId;
  const watch = watchConsumer(conn, consumer, copts, name);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: copts.topics, fromBeginning: copts.fromBeginning ?? false });
  } catch (e) {
    await disconnectConsumer(conn, consumer);
    throw conn.unavailable(e);
  }
  await consumer.run({
    autoCommit: copts.autoCommit ?? true,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: copts.partitionsConsumedConcurrently ?? 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      watch.failing = true;
      await eachBatch({
        topic: batch.topic,
        partition: batch.partition,
        highWatermark: batch.highWatermark,
        ...fetchedRecords(batch),
        resolveOffset,
        heartbeat,
        isCurrent: () => isRunning() && !isStale(),
        isStale,
      });
      watch.failing = false;
      conn.deps?.consumerProgressed(name);
    },
  });
  return {
    async stop() {
      conn.deps?.consumerStopped(name);
      await disconnectConsumer(conn, consumer);
    },
    commit: (offsets) => consumer.commitOffsets(offsets),
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    pause: (t) => consumer.pause(t),
    resume: (t) => consumer.resume(t),
    onCrash: watch.onCrash,
  };
}
