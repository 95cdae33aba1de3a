/** Topic and group administration through one kafkajs admin client, connected on first use. */
import type { Admin } from 'kafkajs';
import { withTimeout } from '../timeout';
import { disconnectConsumer, type KafkaConnection } from './connection';
import { isTopicGone } from './topics';
import type { LogwayKafka } from './types';

export type KafkaAdmin = Pick<
  LogwayKafka,
  'listTopics' | 'topicPartitions' | 'createTopic' | 'partitionOffsets' | 'offsetsByTimestamp' | 'ping' | 'startGroupAtEnd' | 'close'
>;

export function kafkaAdmin(conn: KafkaConnection): KafkaAdmin {
  let admin: Admin | undefined;
  let adminReady: Promise<Admin> | undefined;

  function getAdmin(): Promise<Admin> {
    if (!adminReady) {
      const a = conn.kafka.admin();
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

  /** Drops the admin client; the next call connects a new one. */
  function forget(): void {
    const old = admin;
    admin = undefined;
    adminReady = undefined;
    void old?.disconnect().catch(() => undefined);
  }

  async function withAdmin<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const askedAt = Date.now();
      try {
        const out = await fn(await getAdmin());
        conn.answered(askedAt);
        return out;
      } catch (e) {
        // kafkajs's admin names every topic it was ever asked about in each metadata request, so
        // one deleted topic fails all its later calls: a new admin, once, forgets it.
        if (attempt === 0 && isTopicGone(e)) {
          forget();
          continue;
        }
        throw conn.unavailable(e, askedAt);
      }
    }
  }

  return {
    listTopics: () => withAdmin((a) => a.listTopics()),

    topicPartitions: () => withAdmin(async (a) => (await a.fetchTopicMetadata()).topics.map((t) => ({ topic: t.name, partitions: t.partitions.length }))),

    createTopic: (topic, partitions = 3) =>
      withAdmin(async (a) => {
        await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      }),

    partitionOffsets: (topic) => withAdmin(async (a) => (await a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }))),

    offsetsByTimestamp: (topic, ts) =>
      withAdmin(async (a) => (await a.fetchTopicOffsetsByTimestamp(topic, ts)).map((p) => ({ partition: p.partition, offset: p.offset }))),

    async startGroupAtEnd(groupId, topics) {
      if (topics.length === 0) return false;
      const a = await getAdmin().catch((e) => {
        throw conn.unavailable(e);
      });
      const ends = await groupEnds(conn, a, groupId, topics);
      if (!ends) return false;
      await commitAsMember(conn, groupId, topics, ends);
      return true;
    },

    async ping(timeoutMs) {
      const askedAt = Date.now();
      await withTimeout(
        (async () => {
          const a = await getAdmin();
          await a.describeCluster();
          conn.answered(askedAt);
        })().catch((e) => {
          throw conn.unavailable(e, askedAt);
        }),
        timeoutMs,
        'Kafka',
      );
    },

    async close() {
      if (admin) await admin.disconnect().catch(() => undefined);
      admin = undefined;
      adminReady = undefined;
    },
  };
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
