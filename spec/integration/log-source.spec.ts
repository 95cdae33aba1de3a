/**
 * lib/kafka/source on the real broker: a partition added to a topic the source already reads
 * (admin createPartitions) is read without any other topic change, every record once; and the
 * running consumer seeks by timestamp to the first record at or after it. On the code before, a
 * new partition was read only once the topic set changed (kafkajs resolves a subscription once).
 */
import { Kafka, logLevel } from 'kafkajs';
import { closeCore, Core } from '../../lib/core';
import { LogSource, type Batch, type SourceTopics } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { createTestCore, testEnv, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

let core: Core;
const sources: LogSource[] = [];
const log = createLogger('silent');
const raw = new Kafka({ clientId: 'log-source-spec', brokers: testEnv.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });

beforeAll(() => {
  core = createTestCore();
});

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  if (core) await closeCore(core);
});

/** A source over one topic that keeps every record it is handed, as `partition:value`. */
function collect(topic: string, start: 'earliest' | 'tracked') {
  const seen: string[] = [];
  const positions = new Map<number, number>();
  const source = new LogSource(
    core.kafka,
    {
      onBatch: (b: Batch) => {
        for (const r of b.records) {
          seen.push(`${r.partition}:${r.value?.toString()}`);
          positions.set(r.partition, Number(r.offset) + 1);
        }
        const last = b.records[b.records.length - 1];
        if (last) b.resolveOffset(last.offset);
      },
      // Tracked: start at the end of what exists, as the tail hub does.
      topicsChanged: (c: SourceTopics) => {
        for (const a of [...c.added, ...c.grown]) for (const p of a.partitions) if (!positions.has(p.partition)) positions.set(p.partition, Number(p.high));
      },
      positions: () => [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
    },
    {
      name: 'spec',
      groupId: uniqueName('source-spec'),
      wanted: (t) => t === topic,
      start,
      commit: start === 'tracked' ? 'none' : 'resolved',
      pollMs: 500,
      offsets: true,
    },
    log,
  );
  sources.push(source);
  return { source, seen };
}

it('reads a partition added to a topic it already reads, every record once', async () => {
  const topic = uniqueName('srcparts');
  await core.kafka.createTopic(topic, 1);
  const { source, seen } = collect(topic, 'earliest');
  await source.start();
  await core.kafka.produce(topic, [{ value: 'first' }]);
  await waitFor('the first record', async () => seen.includes('0:first'));

  const admin = raw.admin();
  await admin.connect();
  try {
    await admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] });
  } finally {
    await admin.disconnect();
  }
  const producer = raw.producer();
  await producer.connect();
  try {
    await waitFor('a write to the new partition', async () => producer.send({ topic, messages: [{ partition: 1, value: 'on-p1' }] }).then(() => true));
    await producer.send({ topic, messages: [{ partition: 0, value: 'on-p0' }] });
  } finally {
    await producer.disconnect();
  }
  await waitFor('the record of the new partition', async () => seen.includes('1:on-p1') && seen.includes('0:on-p0'), 60_000);
  expect(source.topics).toEqual([topic]);
  expect([...seen].sort()).toEqual(['0:first', '0:on-p0', '1:on-p1']);
});

it('seeks the running consumer by timestamp: the records at and after it, once', async () => {
  const topic = uniqueName('srcseek');
  await core.kafka.createTopic(topic, 1);
  const t0 = Date.now() - 3_600_000;
  const t1 = t0 + 60_000;
  await core.kafka.produce(
    topic,
    ['old-1', 'old-2'].map((value) => ({ value, timestamp: String(t0) })),
  );
  await core.kafka.produce(
    topic,
    ['new-1', 'new-2', 'new-3'].map((value) => ({ value, timestamp: String(t1) })),
  );
  const { source, seen } = collect(topic, 'tracked');
  await source.start();
  await waitFor('the consumer running', async () => source.topics.includes(topic));
  // Tracked from the end: nothing of the past yet.
  expect(seen).toEqual([]);
  expect(await source.seekToTime(topic, t1)).toEqual([{ partition: 0, offset: '2' }]);
  await waitFor('the records from the timestamp on', async () => seen.length >= 3);
  await core.kafka.produce(topic, [{ value: 'live' }]);
  await waitFor('a live record after them', async () => seen.includes('0:live'));
  expect(seen).toEqual(['0:new-1', '0:new-2', '0:new-3', '0:live']);
});
