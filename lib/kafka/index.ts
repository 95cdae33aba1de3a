/**
 * The Kafka layer's one public surface: createKafka (a client behind LogwayKafka, so kafkajs can be
 * swapped without touching the hub, drains or builds), the log source that reads through it, and
 * the types both hand out. Only lib/kafka/** imports kafkajs (spec/unit/architecture.spec.ts).
 */
import { Kafka as KafkaJs, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from '../logger';
import type { DependencyTracker } from '../dependencies';
import { KafkaAdmin } from './admin';
import { kafkaConnection } from './connection';
import { consume } from './consumer';
import { kafkaLogCreator } from './kafkajs-log';
import { installKafkajsPatches } from './kafkajs-patches';
import { KafkaProducers } from './producer';
import { readRanges } from './read-back';
import type { LogwayKafka } from './types';

export type * from './types';
export { kafkaLogCreator } from './kafkajs-log';
export { isTopicGone } from './topics';
export { LogSource } from './source/log-source';
export type { CommitPolicy, LogSourceOptions, SourceKafka, SourceTopics, SourceUser, StartPosition } from './source/options';
export { LogLineReader } from './source/lines';
export type { LogLineReaderDeps, ParsedRecord } from './source/lines';
export { malformedBy, sourceMetrics } from './source/metrics';
export type { SourceMetrics } from './source/metrics';

export function createKafka(opts: { brokers: string[]; clientId: string; logger: Logger; dependencies?: DependencyTracker }): LogwayKafka {
  installKafkajsPatches();
  const log = opts.logger.child({ component: 'kafka' });
  const kafka = new KafkaJs({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(log, opts.dependencies),
  });
  const conn = kafkaConnection(kafka, log, opts.dependencies);
  const producers = new KafkaProducers(conn);
  const admin = new KafkaAdmin(conn);
  return {
    produce: (topic, records, popts) => producers.produce(topic, records, popts),
    consume: (copts, eachBatch) => consume(conn, copts, eachBatch),
    readRanges: (ranges, ropts) => readRanges(conn, ranges, ropts),
    listTopics: () => admin.listTopics(),
    topicPartitions: () => admin.topicPartitions(),
    createTopic: (topic, partitions) => admin.createTopic(topic, partitions),
    partitionOffsets: (topic) => admin.partitionOffsets(topic),
    offsetsByTimestamp: (topic, ts) => admin.offsetsByTimestamp(topic, ts),
    startGroupAtEnd: (groupId, topics) => admin.startGroupAtEnd(groupId, topics),
    ping: (timeoutMs) => admin.ping(timeoutMs),
    async close() {
      await Promise.all([...conn.consumers].map((c) => c.disconnect().catch(() => undefined)));
      conn.consumers.clear();
      await producers.close();
      await admin.close();
    },
  };
}
