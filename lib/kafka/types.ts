/** What the rest of logway sees of Kafka: records, batches and the client interface (./index makes one). */
import type { Undecodable } from './undecodable';

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

/** One partition's records, in offset order, as a consumer's user handles them. */
export interface Batch {
  topic: string;
  partition: number;
  /** The partition's next offset to be written when the batch was fetched (for lag). */
  highWatermark: string;
  records: KafkaRecord[];
  /** Marks an offset as processed (the committed position becomes offset+1 on the next commit). */
  resolveOffset(offset: string): void;
  /** Tells the group this member is alive during a long batch. */
  heartbeat(): Promise<void>;
  /**
   * False once the batch is no longer this consumer's to handle (it is stopping, or a seek or
   * rebalance came after the fetch): a long batch ends early, resolving nothing more.
   */
  isCurrent(): boolean;
}

/** A batch as the consumer fetched it (what the log source sees before its user does). */
export interface FetchedBatch extends Batch {
  /** Fetched before a seek or rebalance: its offsets are not this consumer's any more. */
  isStale(): boolean;
  /**
   * The partition's next record batch could not be decoded (corrupt, or past a codec's bound):
   * `records` are the ones before it. Until something changes, every fetch of this partition ends
   * there again: never resolve at or past `firstOffset` (the user quarantines the partition).
   */
  undecodable?: Undecodable;
}

export interface ConsumerOptions {
  groupId: string;
  /** What readiness and logs call this consumer ('tail-hub', 'drains', 'builds'); default the group id. */
  name?: string;
  /** Topic names or patterns; patterns match the topics that exist when the consumer starts. */
  topics: (string | RegExp)[];
  fromBeginning?: boolean;
  /** false: offsets are committed only through commit() after resolveOffset. */
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
  consume(opts: ConsumerOptions, eachBatch: (batch: FetchedBatch) => Promise<void>): Promise<RunningConsumer>;
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
