/** How a user of the Kafka log source (./log-source) configures it and what it hands back. */
import type { Batch, LogwayKafka, PartitionOffsets } from '../types';
import type { QuarantineReporter } from '../../dependencies';
import type { RestartPolicy } from './restart';
import type { SourceMetrics } from './metrics';

/**
 * Where reading starts:
 * - `tracked`: the user's positions (SourceUser.positions) after every start; a fresh group each
 *   time and no commits (the tail hub).
 * - `earliest` / `latest`: the group's commits; a partition without one starts at its first or
 *   next offset (the build consumer).
 * - `group-at-end`: the group's commits; a brand-new group starts at the end of the topics that
 *   exist then (their ends are committed for it first: a new deployment does not replay
 *   retention), and a topic it never committed on (created later) is read from its start (drains).
 */
export type StartPosition = 'tracked' | 'earliest' | 'latest' | 'group-at-end';

/**
 * Who commits: `none` (tracked users), `manual` (the user calls commit() with what it settled:
 * the drain worker's OffsetTracker), `resolved` (kafkajs commits the offsets the user resolved
 * after handling a batch: the build consumer resolves only what PostgreSQL stored).
 */
export type CommitPolicy = 'none' | 'manual' | 'resolved';

export interface LogSourceOptions {
  /** What readiness and logs call the consumer ('tail-hub', 'drains', 'builds'). */
  name: string;
  /** The group (`tracked`: the prefix of one group per start). */
  groupId: string;
  /** Which topics to read. */
  wanted: (topic: string) => boolean;
  /** Topics the source creates when they do not exist (the build-log topic). */
  ensureTopics?: string[];
  start: StartPosition;
  commit: CommitPolicy;
  /** How often topics are listed again (ms). */
  pollMs: number;
  restart?: RestartPolicy;
  /** For every added topic and grown partition, its low/high offsets before topicsChanged (tracked users need them). */
  offsets?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
  maxBytes?: number;
  minBytes?: number;
  maxWaitTimeMs?: number;
  /** Failed batches in a row after which a partition is quarantined (default 3). */
  poisonAfter?: number;
  /** How long a quarantined partition is held before it is tried again (default 5 min). */
  quarantineMs?: number;
  metrics?: SourceMetrics;
  /** Where quarantines are reported (the node's DependencyTracker: /health/ready names them). */
  quarantines?: QuarantineReporter;
}

export interface SourceTopics {
  /** True on the first successful look (the topics that existed when the source started). */
  initial: boolean;
  /** Added topics with their partitions (offsets filled when LogSourceOptions.offsets). */
  added: { topic: string; partitions: PartitionOffsets[] }[];
  /** New partitions of known topics (offsets filled when LogSourceOptions.offsets). */
  grown: { topic: string; partitions: PartitionOffsets[] }[];
  removed: string[];
}

export interface SourceUser {
  /** A batch of one partition, in offset order. Resolve what you handled (batch.resolveOffset). */
  onBatch(batch: Batch): Promise<void> | void;
  /** The topic set changed; called before the consumer is restarted over the new set. */
  topicsChanged?(change: SourceTopics): void;
  /** The running consumer is about to be replaced or stopped (manual committers commit here). */
  beforeRestart?(): Promise<void>;
  /** `tracked`: where to resume each partition, seeked after every start. */
  positions?(): Iterable<{ topic: string; partition: number; offset: number }>;
}

/** The part of lib/kafka the source uses (a scripted client in the unit tests). */
export type SourceKafka = Pick<
  LogwayKafka,
  'listTopics' | 'topicPartitions' | 'createTopic' | 'partitionOffsets' | 'offsetsByTimestamp' | 'consume' | 'startGroupAtEnd'
>;
