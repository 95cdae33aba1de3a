/**
 * A poison partition on the real broker (issue 10 Build 1: isolated, reported, skipped, never
 * stopping the others): a LogSource whose handler fails on every batch of one partition
 * quarantines it; through the app, /health/ready is 200 DEGRADED naming the consumer, topic and
 * partition with the handler's reason and the retry time, while the topic's other partition keeps
 * flowing; once the quarantine ends (a short quarantineMs) and the retried batch goes through, the
 * detail is gone and the held record is handled exactly once. A quarantined partition whose topic
 * is deleted (Kafka's TopicCommand) leaves /health/ready too. The tracker and rendering without a
 * broker: spec/unit/quarantine-readiness.spec.ts.
 */
import { Kafka, logLevel, Producer } from 'kafkajs';
import type { Express } from 'express';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import type { Batch } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { LogSource } from '../../lib/kafka/source/log-source';
import { createTestCore, testEnv, uniqueName } from '../helpers/env';
import { deleteTopicWithTopicCommand } from '../helpers/topic-command';
import { waitFor } from '../helpers/wait';
import type { QuarantineDetail } from '../../routes/health';
import { quarantinedEntry, quarantineShown, ready as readyOf } from '../helpers/readiness';

jest.setTimeout(120_000);

let core: Core;
let app: Express;
let producer: Producer;
const sources: LogSource[] = [];
const raw = new Kafka({ clientId: 'quarantine-ready-spec', brokers: testEnv.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });

beforeAll(async () => {
  core = createTestCore();
  app = createApp(core, []);
  producer = raw.producer();
  await producer.connect();
});

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await producer?.disconnect();
  if (core) await closeCore(core);
});

/** One record into one partition (the gateway's producer picks partitions by key). */
const produceTo = (topic: string, partition: number, value: string) => producer.send({ topic, acks: -1, messages: [{ partition, value }] });

/**
 * A source over one topic, as the node's consumers run it (reporting to the node's tracker), whose
 * handler fails on partition 1 while `poison.on`; every record handled is kept as `partition:value`.
 */
function poisonedSource(topic: string, quarantineMs: number) {
  const name = uniqueName('quarantined');
  const poison = { on: true };
  const seen: string[] = [];
  const source = new LogSource(
    core.kafka,
    {
      onBatch: (b: Batch) => {
        if (poison.on && b.partition === 1) throw new Error(`cannot decode record at offset ${b.records[0]?.offset}\n    at decode (decoder.js:1:1)`);
        for (const r of b.records) seen.push(`${r.partition}:${r.value?.toString()}`);
        const last = b.records[b.records.length - 1];
        if (last) b.resolveOffset(last.offset);
      },
    },
    {
      name,
      groupId: uniqueName('quarantine-ready'),
      wanted: (t) => t === topic,
      start: 'earliest',
      commit: 'resolved',
      pollMs: 500,
      poisonAfter: 2,
      quarantineMs,
      quarantines: core.dependencies,
    },
    createLogger('silent'),
  );
  sources.push(source);
  return { source, name, poison, seen };
}

const ready = () => readyOf(app);

const about = (topic: string) => (q: QuarantineDetail) => q.topic === topic;

it('a poison partition: 200 DEGRADED naming it while the other partition flows; gone once its retried batch goes through', async () => {
  const topic = uniqueName('qready');
  await core.kafka.createTopic(topic, 2);
  await produceTo(topic, 0, 'a');
  await produceTo(topic, 1, 'poison');
  // Long enough that the other partition is seen flowing while this one is held.
  const { source, name, poison, seen } = poisonedSource(topic, 15_000);
  await source.start();

  const held = await quarantineShown(app, topic);
  expect(held.status).toBe(200);
  expect(held.body.state).toBe('DEGRADED');
  expect(held.body.message).toContain(`consumer ${name} holds poison partition ${topic}:1`);
  const detail = held.body.quarantined!.filter(about(topic));
  expect(detail).toEqual([quarantinedEntry(name, topic, 'cannot decode record at offset 0')]);
  // retry_at is quarantineMs after the quarantine (the two clocks read a millisecond or so apart).
  expect(Date.parse(detail[0].retry_at) - Date.parse(detail[0].since)).toBeGreaterThanOrEqual(14_990);
  expect(Date.parse(detail[0].retry_at) - Date.parse(detail[0].since)).toBeLessThanOrEqual(15_000);
  expect(held.body.dependencies[`consumer:${name}`]).toEqual({ state: 'DEGRADED', error: '1 partition quarantined' });
  expect(source.quarantinedPartitions).toEqual([`${topic}:1`]);

  // The other partition keeps flowing meanwhile.
  await waitFor('partition 0 read', async () => seen.includes('0:a'));
  await produceTo(topic, 0, 'b');
  await waitFor('a new record on partition 0', async () => seen.includes('0:b'));
  expect(source.quarantinedPartitions).toEqual([`${topic}:1`]);
  expect((await ready()).body.quarantined?.filter(about(topic))).toMatchObject([{ partition: 1, state: 'quarantined' }]);

  // The cause is fixed; when the quarantine ends the held batch is read again and goes through.
  poison.on = false;
  const clear = await waitFor(
    'the detail to go',
    async () => {
      const r = await ready();
      return !r.body.quarantined?.some(about(topic)) && r;
    },
    60_000,
    200,
  );
  expect(clear.status).toBe(200);
  expect(clear.body.dependencies[`consumer:${name}`]).toEqual({ state: 'UP' });
  expect(seen.filter((s) => s.startsWith('1:'))).toEqual(['1:poison']);
  expect(seen.filter((s) => s.startsWith('0:'))).toEqual(['0:a', '0:b']);
});

it('a quarantined partition whose topic is deleted leaves /health/ready', async () => {
  const topic = uniqueName('qgone');
  await core.kafka.createTopic(topic, 2);
  await produceTo(topic, 1, 'poison');
  const { source } = poisonedSource(topic, 600_000);
  await source.start();
  await waitFor('the quarantine on /health/ready', async () => (await ready()).body.quarantined?.some(about(topic)));

  deleteTopicWithTopicCommand(topic);
  await waitFor('the detail to go with the topic', async () => !(await ready()).body.quarantined?.some(about(topic)), 60_000, 200);
  expect(source.quarantinedPartitions).toEqual([]);
});
