/**
 * A scripted Kafka for the log source's unit specs (no broker): topics the test edits, every
 * consumer started recorded with its seeks, commits, pauses and crash trigger, and batches built by hand.
 */
import type { Batch, ConsumerOptions, FetchedBatch, KafkaRecord, PartitionOffsets, RunningConsumer } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import type { LogSourceOptions, SourceKafka, SourceTopics, SourceUser } from '../../lib/kafka';

export const silent = createLogger('silent');

export interface Started {
  opts: ConsumerOptions;
  eachBatch: (b: FetchedBatch) => Promise<void>;
  seeks: [string, number, string][];
  commits: { topic: string; partition: number; offset: string }[][];
  paused: string[];
  resumed: string[];
  stopped: boolean;
  crash: (err: Error) => void;
}

/** A Kafka with a topic → partition count map the test edits, recording every consumer started. */
export function scripted(initial: Record<string, number>) {
  const topics = new Map(Object.entries(initial));
  const started: Started[] = [];
  const groupsAtEnd: string[][] = [];
  const created: string[] = [];
  const kafka: SourceKafka = {
    listTopics: async () => [...topics.keys()],
    topicPartitions: async () => [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    createTopic: async (t, n = 3) => {
      created.push(t);
      topics.set(t, n);
    },
    partitionOffsets: async (t): Promise<PartitionOffsets[]> =>
      Array.from({ length: topics.get(t) ?? 0 }, (_, partition) => ({ partition, low: '0', high: String(10 * (partition + 1)) })),
    offsetsByTimestamp: async (t, ts) => Array.from({ length: topics.get(t) ?? 0 }, (_, partition) => ({ partition, offset: String(ts + partition) })),
    startGroupAtEnd: async (_g, ts) => {
      groupsAtEnd.push(ts);
      return true;
    },
    consume: async (opts, eachBatch) => {
      let crashListener: (err: Error) => void = () => undefined;
      const s: Started = { opts, eachBatch, seeks: [], commits: [], paused: [], resumed: [], stopped: false, crash: (e) => crashListener(e) };
      const names = (tps: { topic: string; partitions?: number[] }[]) => tps.flatMap((t) => (t.partitions ?? [-1]).map((p) => `${t.topic}:${p}`));
      started.push(s);
      const consumer: RunningConsumer = {
        stop: async () => void (s.stopped = true),
        commit: async (points) => void s.commits.push(points),
        seek: (topic, partition, offset) => void s.seeks.push([topic, partition, offset]),
        pause: (tps) => void s.paused.push(...names(tps)),
        resume: (tps) => void s.resumed.push(...names(tps)),
        onCrash: (l) => void (crashListener = l),
      };
      return consumer;
    },
  };
  return { kafka, topics, started, groupsAtEnd, created };
}

export function batchOf(topic: string, partition: number, records: Partial<KafkaRecord>[], stale = false): FetchedBatch & { resolved: string[] } {
  const resolved: string[] = [];
  return {
    topic,
    partition,
    highWatermark: '100',
    records: records.map((r, i) => ({ topic, partition, offset: String(i), timestamp: '0', key: null, value: null, ...r })),
    resolveOffset: (o) => void resolved.push(o),
    heartbeat: async () => undefined,
    isCurrent: () => !stale,
    isStale: () => stale,
    resolved,
  };
}

export const options = (o: Partial<LogSourceOptions> = {}): LogSourceOptions => ({
  name: 'test',
  groupId: 'g',
  wanted: (t) => !t.startsWith('_'),
  start: 'tracked',
  commit: 'none',
  pollMs: 60_000,
  offsets: true,
  ...o,
});

export function recorder(): SourceUser & { changes: SourceTopics[]; batches: Batch[]; restarts: number } {
  const u = {
    changes: [] as SourceTopics[],
    batches: [] as Batch[],
    restarts: 0,
    onBatch: (b: Batch) => void u.batches.push(b),
    topicsChanged: (c: SourceTopics) => void u.changes.push(c),
    beforeRestart: async () => void u.restarts++,
    positions: () => [{ topic: 'space', partition: 0, offset: 7 }],
  };
  return u;
}
