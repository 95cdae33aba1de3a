/**
 * One-shot reads of offset ranges (the tail's history back-fill): a throw-away consumer (its own
 * group, no commits) seeks each partition to its range's start and collects records until its end.
 */
import crypto from 'node:crypto';
import type { EachBatchPayload } from 'kafkajs';
import { disconnectConsumer, type KafkaConnection } from './connection';
import { fetchedRecords } from './consumer';
import type { KafkaRecord, PartitionRange, ReadRangesOptions, Undecodable } from './types';

/** One partition's range [from, to) and the records of it read so far. */
interface WantedRange {
  from: bigint;
  to: bigint;
  records: KafkaRecord[];
}

/** Keeps the records of `fetched` inside `w`'s range; true when the range's end was reached. */
function collect(w: WantedRange, fetched: KafkaRecord[]): boolean {
  for (const r of fetched) {
    const o = BigInt(r.offset);
    if (o < w.from) continue;
    if (o >= w.to) return true;
    w.records.push(r);
    if (o >= w.to - 1n) return true;
  }
  return false;
}

/** A read's progress: the ranges by `topic:partition`, those not finished, and where undecodable batches cut ranges short. */
interface RangeRead {
  wanted: Map<string, WantedRange>;
  remaining: Set<string>;
  /** Partitions whose range runs into an undecodable batch: not complete, and not waited for. */
  undecodables: ({ topic: string; partition: number } & Undecodable)[];
}

/** The non-empty ranges, none read yet. */
function rangeRead(ranges: PartitionRange[]): RangeRead {
  const wanted = new Map<string, WantedRange>();
  for (const r of ranges) {
    const from = BigInt(r.from);
    const to = BigInt(r.to);
    if (from < to) wanted.set(`${r.topic}:${r.partition}`, { from, to, records: [] });
  }
  return { wanted, remaining: new Set(wanted.keys()), undecodables: [] };
}

/** Takes what a fetched batch holds of its partition's range; true when that range is finished. */
function readBatch(read: RangeRead, batch: EachBatchPayload['batch'], resolveOffset: (offset: string) => void): boolean {
  const key = `${batch.topic}:${batch.partition}`;
  const w = read.wanted.get(key);
  if (!w || !read.remaining.has(key)) return false;
  const { records, undecodable } = fetchedRecords(batch);
  // What comes before an undecodable batch is read; the range ends there (the read is reported incomplete).
  if (undecodable && BigInt(undecodable.firstOffset) < w.to) {
    read.remaining.delete(key);
    read.undecodables.push({ topic: batch.topic, partition: batch.partition, ...undecodable });
  }
  if (collect(w, records)) read.remaining.delete(key);
  // The next fetch starts after the last resolved offset (nothing is committed).
  const last = records[records.length - 1];
  if (last) resolveOffset(last.offset);
  return !read.remaining.has(key);
}

export async function readRanges(
  conn: KafkaConnection,
  ranges: PartitionRange[],
  opts: ReadRangesOptions = {},
): Promise<{ records: KafkaRecord[]; complete: boolean }> {
  const read = rangeRead(ranges);
  if (read.wanted.size === 0) return { records: [], complete: true };
  const topics = [...new Set(ranges.filter((r) => read.wanted.has(`${r.topic}:${r.partition}`)).map((r) => r.topic))];
  const consumer = conn.kafka.consumer({
    groupId: `${opts.groupIdPrefix ?? 'logway-read'}-${crypto.randomUUID()}`,
    sessionTimeout: 10000,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  conn.consumers.add(consumer);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(() => finish(), opts.timeoutMs ?? 15000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isStale, resolveOffset }) => {
        // A batch fetched before our seek took effect is stale: its offsets are not ours.
        if (isStale()) return;
        if (readBatch(read, batch, resolveOffset)) consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        if (read.remaining.size === 0) finish();
      },
    });
    for (const r of ranges) {
      const w = read.wanted.get(`${r.topic}:${r.partition}`);
      if (w) consumer.seek({ topic: r.topic, partition: r.partition, offset: w.from.toString() });
    }
    await finished;
  } catch (e) {
    throw conn.unavailable(e);
  } finally {
    clearTimeout(timer);
    await disconnectConsumer(conn, consumer);
  }
  if (read.remaining.size > 0) conn.log.warn({ unfinished: [...read.remaining] }, 'readRanges timed out; returning a partial read');
  for (const u of read.undecodables) conn.log.warn(u, 'readRanges stopped at an undecodable record batch; returning a partial read');
  return { records: [...read.wanted.values()].flatMap((w) => w.records), complete: read.remaining.size === 0 && read.undecodables.length === 0 };
}
