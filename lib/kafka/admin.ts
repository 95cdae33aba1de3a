/** Topic and group administration through one kafkajs admin client, connected on first use. */
import type { Admin } from 'kafkajs';
import { withTimeout } from '../timeout';
import { disconnectConsumer, type KafkaConnection } from './connection';
import { isTopicGone } from './topics';
import type { PartitionOffsets } from './types';

/** logway's admin calls; a deleted topic or an outage is handled here, not by the caller. */
export class KafkaAdmin {
  private admin: Admin | undefined;
  private adminReady: Promise<Admin> | undefined;

  constructor(private conn: KafkaConnection) {}

  listTopics(): Promise<string[]> {
    return this.withAdmin((a) => a.listTopics());
  }

  topicPartitions(): Promise<{ topic: string; partitions: number }[]> {
    return this.withAdmin(async (a) => (await a.fetchTopicMetadata()).topics.map((t) => ({ topic: t.name, partitions: t.partitions.length })));
  }

  createTopic(topic: string, partitions = 3): Promise<void> {
    return this.withAdmin(async (a) => {
      await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    });
  }

  partitionOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.withAdmin(async (a) => (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high })));
  }

  offsetsByTimestamp(topic: string, ts: number): Promise<{ partition: number; offset: string }[]> {
    return this.withAdmin(async (a) => (await a.fetchTopicOffsetsByTimestamp(topic, ts)).map((p) => ({ partition: p.partition, offset: p.offset })));
  }

  /** LogwayKafka.startGroupAtEnd. */
  async startGroupAtEnd(groupId: string, topics: string[]): Promise<boolean> {
    if (topics.length === 0) return false;
    const a = await this.connected().catch((e) => {
      throw this.conn.unavailable(e);
    });
    const ends = await groupEnds(this.conn, a, groupId, topics);
    if (!ends) return false;
    await commitAsMember(this.conn, groupId, topics, ends);
    return true;
  }

  async ping(timeoutMs: number): Promise<void> {
    const askedAt = Date.now();
    await withTimeout(
      (async () => {
        const a = await this.connected();
        await a.describeCluster();
        this.conn.answered(askedAt);
      })().catch((e) => {
        throw this.conn.unavailable(e, askedAt);
      }),
      timeoutMs,
      'Kafka',
    );
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    this.adminReady = undefined;
    if (a) await a.disconnect().catch(() => undefined);
  }

  private connected(): Promise<Admin> {
    if (!this.adminReady) {
      const a = this.conn.kafka.admin();
      this.adminReady = a.connect().then(
        () => (this.admin = a),
        (e) => {
          this.adminReady = undefined;
          throw e;
        },
      );
    }
    return this.adminReady;
  }

  private async withAdmin<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const askedAt = Date.now();
      try {
        const out = await fn(await this.connected());
        this.conn.answered(askedAt);
        return out;
      } catch (e) {
        // kafkajs's admin names every topic it was ever asked about in each metadata request, so
        // one deleted topic fails all its later calls: a new admin, once, forgets it.
        if (attempt === 0 && isTopicGone(e)) {
          void this.close();
          continue;
        }
        throw this.conn.unavailable(e, askedAt);
      }
    }
  }
}

type CommitPoint = { topic: string; partition: number; offset: string };

/** Every partition's high watermark when the group is brand new (no commits on `topics`, no members); else undefined. */
async function groupEnds(conn: KafkaConnection, a: Admin, groupId: string, topics: string[]): Promise<CommitPoint[] | undefined> {
  try {
    const committed = await a.fetchOffsets({ groupId, topics });
    if (committed.some((t) => t.partitions.some((p) => Number(p.offset) >= 0))) return undefined;
    const { groups } = await a.describeGroups([groupId]);
    const state = groups[0]?.state;
    if (state && state !== 'Empty' && state !== 'Dead') return undefined;
    const ends = await Promise.all(
      topics.map(async (topic) => (await a.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, offset: p.high }))),
    );
    return ends.flat();
  } catch (e) {
    throw conn.unavailable(e);
  }
}

/**
 * Offsets are committed by a member of the group: a short-lived one that joins alone (the group
 * has no members), takes every partition, commits the ends and leaves without reading.
 */
async function commitAsMember(conn: KafkaConnection, groupId: string, topics: string[], points: CommitPoint[]): Promise<void> {
  const consumer = conn.kafka.consumer({ groupId, sessionTimeout: 10000, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  conn.consumers.add(consumer);
  try {
    let joined: () => void = () => undefined;
    const join = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
    consumer.pause(topics.map((topic) => ({ topic })));
    await withTimeout(join, 30_000, 'Kafka group join');
    await consumer.commitOffsets(points);
  } catch (e) {
    throw conn.unavailable(e);
  } finally {
    await disconnectConsumer(conn, consumer);
  }
}
