/**
 * An undecodable record batch on the real broker (issue 10 Build 1: a poison partition is isolated,
 * reported and skipped; it never stops the others): kcat writes, on partition 1 of a 2-partition
 * topic, a zstd batch far past lib/kafka/codecs.ts' bound (one ~2 MB line of one character) between
 * two plain lines. Before lib/kafka/undecodable.ts, kafkajs failed the whole fetch on it and the
 * consumer crash-looped for every partition (/health/ready 503). Now a LogSource reporting to the
 * node's tracker gets the line before it, quarantines partition 1 with the codec's reason
 * (/health/ready 200 DEGRADED naming it), keeps delivering partition 0, and after quarantineMs
 * fetches partition 1 again from the bad batch (kafkajs did not move past it): held again, the
 * line after it never delivered. A read-back (readRanges) over it returns what precedes it,
 * reported incomplete.
 */
import { execFileSync } from 'node:child_process';
import type { Express } from 'express';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { LogSource, type Batch } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { createTestCore, testEnv, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';
import { quarantinedEntry, quarantineShown, ready as readyOf } from '../helpers/readiness';

jest.setTimeout(120_000);

let core: Core;
let app: Express;
let source: LogSource | undefined;

beforeAll(() => {
  execFileSync('kcat', ['-V'], { stdio: 'ignore' }); // scripts/test-deps.d/kcat.sh installs it
  core = createTestCore();
  app = createApp(core, []);
});

afterAll(async () => {
  await source?.stop();
  if (core) await closeCore(core);
});

/** Lines into one partition with kcat (librdkafka), compressed with `codec` when given: one batch per call. */
function kcat(topic: string, partition: number, lines: string[], codec?: 'zstd'): void {
  execFileSync(
    'kcat',
    ['-P', '-b', testEnv.KAFKA_BROKERS, '-t', topic, '-p', String(partition), ...(codec ? ['-z', codec] : []), '-X', 'message.max.bytes=10000000'],
    { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] },
  );
}

const ready = () => readyOf(app);

it('a zstd batch past the bound quarantines its partition alone; the other partition flows; retried, it is held again', async () => {
  const topic = uniqueName('undecodable');
  await core.kafka.createTopic(topic, 2);
  kcat(topic, 0, ['p0 before']);
  kcat(topic, 1, ['p1 before']);
  kcat(topic, 1, ['a'.repeat(2 * 1024 * 1024)], 'zstd');
  kcat(topic, 1, ['p1 after']);
  const ends = await core.kafka.partitionOffsets(topic);
  expect(ends.find((p) => p.partition === 1)?.high).toBe('3');

  const seen: string[] = [];
  const said: { msg: string; offset?: string; partition?: number }[] = [];
  const name = uniqueName('undecodable-source');
  source = new LogSource(
    core.kafka,
    {
      onBatch: (b: Batch) => {
        for (const r of b.records) {
          seen.push(`${r.partition}:${r.value?.toString().slice(0, 20)}`);
          b.resolveOffset(r.offset);
        }
      },
    },
    {
      name,
      groupId: uniqueName('undecodable'),
      wanted: (t) => t === topic,
      start: 'earliest',
      commit: 'resolved',
      pollMs: 500,
      quarantineMs: 3000,
      quarantines: core.dependencies,
    },
    createLogger('info', { write: (s: string) => void said.push(JSON.parse(s)) }),
  );
  await source.start();

  const held = await quarantineShown(app, topic);
  expect(held.status).toBe(200);
  expect(held.body.state).toBe('DEGRADED');
  expect(held.body.dependencies[`consumer:${name}`]).toEqual({ state: 'DEGRADED', error: '1 partition quarantined' });
  expect(held.body.quarantined!.filter((q) => q.topic === topic)).toEqual([
    quarantinedEntry(
      name,
      topic,
      expect.stringMatching(/^record batch at offset 1 cannot be decoded: zstd decompression failed: zstd batch would decompress to more than \d+ bytes/),
    ),
  ]);
  await waitFor('the lines before the bad batch', async () => seen.includes('0:p0 before') && seen.includes('1:p1 before'));

  // Partition 0 keeps flowing while partition 1 is held.
  kcat(topic, 0, ['p0 after']);
  await waitFor('a new line on partition 0', async () => seen.includes('0:p0 after'));

  // After quarantineMs it is fetched again from the bad batch (kafkajs's position did not pass it): held again.
  const quarantinedLogs = () => said.filter((l) => l.msg.startsWith('Kafka partition quarantined: a record batch of it cannot be decoded'));
  await waitFor('the retry to fail again', async () => quarantinedLogs().length >= 2, 30_000);
  expect(quarantinedLogs().map((l) => [l.partition, l.offset])).toEqual(quarantinedLogs().map(() => [1, '1']));
  expect(said.some((l) => l.msg === 'quarantined Kafka partition tried again')).toBe(true);
  expect(said.some((l) => l.msg === 'Kafka consumer crashed; restarting' || l.msg === 'Kafka consumer restarting after its crash')).toBe(false);
  expect((await ready()).body.quarantined?.filter((q) => q.topic === topic)).toMatchObject([{ partition: 1, state: 'quarantined' }]);
  expect(seen.filter((s) => s.startsWith('1:'))).toEqual(['1:p1 before']);
  expect(seen.filter((s) => s.startsWith('0:'))).toEqual(['0:p0 before', '0:p0 after']);

  // A read-back over the partition gets what precedes the bad batch, reported incomplete.
  const back = await core.kafka.readRanges([{ topic, partition: 1, from: '0', to: '3' }], { timeoutMs: 20_000 });
  expect(back.complete).toBe(false);
  expect(back.records.map((r) => r.value?.toString())).toEqual(['p1 before']);
});
