/**
 * A poison Kafka partition on /health/ready (issue 10 Build 1: isolated, reported, skipped): the
 * LogSource tells the node's DependencyTracker when it quarantines a partition, tries it again and
 * when a batch of it goes through; /health/ready lists each (consumer, topic, partition, state,
 * since, retry_at, bounded reason) and is 200 DEGRADED while nothing blocks, its body valid by the
 * OpenAPI document; the drain supervisor mirrors its processes' quarantines as `drains/<n>`.
 * The broker version of this is spec/integration/quarantine-ready.spec.ts.
 */
import express from 'express';
import request from 'supertest';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Core } from '../../lib/core';
import { DependencyTracker, PartitionQuarantine } from '../../lib/dependencies';
import type { FetchedBatch, RunningConsumer } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { listMigrations } from '../../lib/migrate';
import { openApiDocument } from '../../routes/openapi';
import { LogSource, SourceKafka } from '../../lib/kafka/source/log-source';
import { DrainSupervisor } from '../../drains/supervisor';
import { healthRouter } from '../../routes/health';

const silent = createLogger('silent');

/** A node's health router over fake clients and a real tracker with a clock the test moves. */
function node(opts: { kafkaUp?: boolean } = {}) {
  const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
  const dependencies = new DependencyTracker(silent, undefined, () => clock.now);
  const up = () => Promise.resolve();
  const done = listMigrations().map((name) => ({ name }));
  const core = {
    config: { readyTimeoutMs: 200 },
    logger: silent,
    dependencies,
    kafka: { ping: opts.kafkaUp === false ? () => Promise.reject(new Error('ECONNREFUSED')) : up },
    influx: { ping: up },
    db: { ping: up, query: async () => done },
  } as unknown as Core;
  return { app: express().use(healthRouter(core)), dependencies, clock, core };
}

const doc = openApiDocument({ publicUrl: 'http://localhost', maxSessionLines: 1000, maxFilterLength: 1000, maxDrainsPerApp: 10, maxStreamsPerApp: 10 });
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc as unknown as object, 'openapi.json');
const validReadiness = ajv.compile({ $ref: 'openapi.json#/components/schemas/Readiness' });

function expectDocumented(body: unknown): void {
  const ok = validReadiness(body);
  expect(validReadiness.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

describe('/health/ready and quarantined partitions', () => {
  it('is 200 DEGRADED naming each quarantined partition, the holding consumer DEGRADED, the detail gone once it flows again', async () => {
    const { app, dependencies, clock } = node();
    dependencies.consumerProgressed('drains');
    dependencies.consumerProgressed('tail-hub');
    const since = clock.now;
    dependencies.partitionQuarantined('drains', 'logs-space', 3, 'Error: bad frame\n    at parse (/app/x.js:1:1)', since + 300_000);
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      state: 'DEGRADED',
      message: 'Degraded: consumer drains holds poison partition logs-space:3.',
      dependencies: {
        kafka: { state: 'UP' },
        influxdb: { state: 'UP' },
        postgresql: { state: 'UP' },
        migrations: { state: 'UP' },
        'consumer:drains': { state: 'DEGRADED', error: '1 partition quarantined' },
        'consumer:tail-hub': { state: 'UP' },
      },
      quarantined: [
        {
          consumer: 'drains',
          topic: 'logs-space',
          partition: 3,
          state: 'quarantined',
          since: '2026-03-01T12:00:00.000Z',
          retry_at: '2026-03-01T12:05:00.000Z',
          reason: 'Error: bad frame',
        },
      ],
    });
    expectDocumented(res.body);

    clock.now += 300_000;
    dependencies.partitionRetrying('drains', 'logs-space', 3);
    const retrying = await request(app).get('/health/ready');
    expect(retrying.status).toBe(200);
    expect(retrying.body.message).toBe('Degraded: consumer drains retrying poison partition logs-space:3.');
    expect(retrying.body.quarantined).toMatchObject([{ state: 'retrying', since: '2026-03-01T12:00:00.000Z' }]);
    expectDocumented(retrying.body);

    dependencies.quarantineLifted('drains', 'logs-space', 3);
    const up = await request(app).get('/health/ready');
    expect(up.status).toBe(200);
    expect(up.body.state).toBe('UP');
    expect(up.body).not.toHaveProperty('quarantined');
    expect(up.body.dependencies['consumer:drains']).toEqual({ state: 'UP' });
  });

  it('a node not ready for another reason still lists its quarantines', async () => {
    const { app, dependencies } = node({ kafkaUp: false });
    dependencies.partitionQuarantined('builds', 'alamobuildlogs', 0, 'refused', Date.now() + 1000);
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body.message).toBe('Not ready: kafka down.');
    expect(res.body.quarantined).toMatchObject([{ consumer: 'builds', topic: 'alamobuildlogs', partition: 0, reason: 'refused' }]);
    expectDocumented(res.body);
  });
});

/** A scripted Kafka with topics the test edits; the consumer it starts hands its eachBatch out. */
function scripted(initial: Record<string, number>) {
  const topics = new Map(Object.entries(initial));
  const started: { eachBatch: (b: FetchedBatch) => Promise<void>; paused: string[]; resumed: string[] }[] = [];
  const kafka: SourceKafka = {
    listTopics: async () => [...topics.keys()],
    topicPartitions: async () => [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    createTopic: async () => undefined,
    partitionOffsets: async () => [],
    offsetsByTimestamp: async () => [],
    startGroupAtEnd: async () => false,
    consume: async (_opts, eachBatch) => {
      const s = { eachBatch, paused: [] as string[], resumed: [] as string[] };
      started.push(s);
      const names = (tps: { topic: string; partitions?: number[] }[]) => tps.flatMap((t) => (t.partitions ?? []).map((p) => `${t.topic}:${p}`));
      const consumer: RunningConsumer = {
        stop: async () => undefined,
        commit: async () => undefined,
        seek: () => undefined,
        pause: (tps) => void s.paused.push(...names(tps)),
        resume: (tps) => void s.resumed.push(...names(tps)),
        onCrash: () => undefined,
      };
      return consumer;
    },
  };
  return { kafka, topics, started };
}

function batchOf(topic: string, partition: number): FetchedBatch {
  return {
    topic,
    partition,
    highWatermark: '1',
    records: [{ topic, partition, offset: '0', timestamp: '0', key: null, value: null }],
    resolveOffset: () => undefined,
    heartbeat: async () => undefined,
    isCurrent: () => true,
    isStale: () => false,
  };
}

describe('LogSource → DependencyTracker', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-03-01T12:00:00.000Z') }));
  afterEach(() => jest.useRealTimers());

  it('reports the quarantine, the retry and the batch that goes through; a deleted topic and a stop drop what is held', async () => {
    const k = scripted({ logs: 2, other: 1 });
    let poisoned = true;
    const tracker = new DependencyTracker(silent);
    const source = new LogSource(
      k.kafka,
      {
        onBatch: (b) => {
          if (poisoned && b.partition === 1) throw new Error('cannot parse\nstack line');
        },
      },
      {
        name: 'drains',
        groupId: 'g',
        wanted: () => true,
        start: 'earliest',
        commit: 'resolved',
        pollMs: 1000,
        poisonAfter: 2,
        quarantineMs: 10_000,
        quarantines: tracker,
      },
      silent,
    );
    await source.start();
    const c = k.started[0];
    await expect(c.eachBatch(batchOf('logs', 1))).rejects.toThrow('cannot parse');
    expect(tracker.quarantines()).toEqual([]);
    await c.eachBatch(batchOf('logs', 1));
    const quarantinedAt = Date.now();
    expect(tracker.quarantines()).toEqual([
      { consumer: 'drains', topic: 'logs', partition: 1, since: quarantinedAt, reason: 'cannot parse', retryAt: quarantinedAt + 10_000, retrying: false },
    ]);
    // Another partition going through does not lift it.
    await c.eachBatch(batchOf('logs', 0));
    expect(tracker.quarantines()).toHaveLength(1);

    // Past quarantineMs the next look resumes it: still listed, retrying, until a batch of it goes through.
    await jest.advanceTimersByTimeAsync(11_000);
    expect(c.resumed).toEqual(['logs:1']);
    expect(tracker.quarantines()).toMatchObject([{ partition: 1, retrying: true, since: quarantinedAt }]);
    await c.eachBatch(batchOf('logs', 0));
    expect(tracker.quarantines()).toHaveLength(1);
    poisoned = false;
    await c.eachBatch(batchOf('logs', 1));
    expect(tracker.quarantines()).toEqual([]);

    // Quarantined again, then its topic deleted: the detail goes with it.
    poisoned = true;
    await expect(c.eachBatch(batchOf('logs', 1))).rejects.toThrow();
    await c.eachBatch(batchOf('logs', 1));
    expect(tracker.quarantines()).toHaveLength(1);
    k.topics.delete('logs');
    await jest.advanceTimersByTimeAsync(1000);
    expect(tracker.quarantines()).toEqual([]);

    // One held when the source stops is not reported any more.
    const c2 = k.started[k.started.length - 1];
    const failing = batchOf('other', 1);
    await expect(c2.eachBatch(failing)).rejects.toThrow();
    await c2.eachBatch(failing);
    expect(tracker.quarantines().map((q) => `${q.topic}:${q.partition}`)).toEqual(['other:1']);
    await source.stop();
    expect(tracker.quarantines()).toEqual([]);
  });
});

describe('DrainSupervisor and its processes’ quarantines', () => {
  it('mirrors each process’s quarantines as drains/<n> into /health/ready, and forgets them when the process dies or stops', async () => {
    const { app, dependencies, core } = node();
    const supervisor = new DrainSupervisor(core, {} as never, {
      processes: 2,
      restartBaseMs: 60_000,
      restartCapMs: 60_000,
      stableMs: 60_000,
      stopTimeoutMs: 1000,
      askTimeoutMs: 100,
    });
    // The slots as start() makes them, without forking (the IPC path is what is exercised here).
    type Slot = { index: number; startedAt: number; deaths: number; consumers: object; pending: Map<number, unknown>; restart?: NodeJS.Timeout };
    const internals = supervisor as unknown as {
      slots: Slot[];
      consumersReported(slot: Slot, consumers: object, quarantines: PartitionQuarantine[]): void;
      died(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void;
    };
    internals.slots = [1, 2].map((index) => ({ index, startedAt: Date.now(), deaths: 0, consumers: {}, pending: new Map() }));
    const held = (partition: number): PartitionQuarantine => ({
      consumer: 'drains',
      topic: 'logs',
      partition,
      since: Date.parse('2026-03-01T11:00:00.000Z'),
      reason: 'boom',
      retryAt: Date.parse('2026-03-01T11:05:00.000Z'),
      retrying: false,
    });
    const running = { drains: { state: 'running', crashes: 0 } };
    internals.consumersReported(internals.slots[0], running, [held(0)]);
    internals.consumersReported(internals.slots[1], running, [held(5)]);

    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('DEGRADED');
    expect(res.body.quarantined.map((q: { consumer: string; partition: number }) => `${q.consumer} ${q.partition}`)).toEqual(['drains/1 0', 'drains/2 5']);
    expect(res.body.dependencies['consumer:drains/1']).toEqual({ state: 'DEGRADED', error: '1 partition quarantined' });
    expectDocumented(res.body);

    // A later report without it: gone (the process's source lifted it).
    internals.consumersReported(internals.slots[1], running, []);
    expect(dependencies.quarantines().map((q) => q.consumer)).toEqual(['drains/1']);
    // Process 1 dies: what it held is judged afresh by whoever reads those partitions next.
    internals.died(internals.slots[0], null, 'SIGKILL');
    clearTimeout(internals.slots[0].restart);
    expect(dependencies.quarantines()).toEqual([]);

    internals.consumersReported(internals.slots[1], running, [held(6)]);
    expect(dependencies.quarantines()).toHaveLength(1);
    await supervisor.stop();
    expect(dependencies.quarantines()).toEqual([]);
  });
});
