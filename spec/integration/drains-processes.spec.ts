/**
 * A node with 2 drain worker processes (DRAIN_WORKERS=2) on the real stack: one process SIGKILLed
 * mid-delivery is shown by readiness (consumer:drains/<n>), restarted by the supervisor, and its
 * partitions taken over, nothing lost (produced = delivered + parked, exactly); the processes'
 * Prometheus figures reach this process's /metrics; a stop ends every process.
 */
import fs from 'node:fs';
import express from 'express';
import request from 'supertest';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { healthRouter } from '../../routes/health';
import { createTestCore, uniqueName } from '../helpers/env';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { HttpsReceiver, parseRfc5424, produceLines, waitFor } from '../helpers/drain-fixtures';
import { expectAccountedFor } from '../helpers/drain-accounting';

jest.setTimeout(180_000);

let core: Core;
let feature: DrainsFeature;
let cert: TestCert;
let receiver: HttpsReceiver;
let app: express.Express;
const space = uniqueName('dpr');

beforeAll(async () => {
  cert = makeTestCert();
  receiver = new HttpsReceiver(cert);
  await receiver.listen();
  core = createTestCore();
  await core.kafka.createTopic(space, 4);
  feature = createDrainsFeature(core, {
    processes: 2,
    groupId: uniqueName('drains-processes-'),
    topics: [space],
    fromBeginning: true,
    topicRefreshMs: 500,
    commitIntervalMs: 200,
    // The killed process holds its partitions until its session times out (6 s is Kafka's minimum).
    sessionTimeoutMs: 6000,
    retry: { baseMs: 20, capMs: 200, attempts: 8 },
    tlsCa: cert.ca,
  });
  app = express();
  app.use(healthRouter(core));
  await feature.start?.();
});

afterAll(async () => {
  if (core) await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${space}`]).catch(() => undefined);
  await feature?.stop?.();
  await receiver?.close();
  if (core) await closeCore(core);
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('a SIGKILLed worker process shows in readiness, is restarted, and its partitions are taken over: nothing lost', async () => {
  const [firstPid, otherPid] = feature.supervisor!.pids();
  expect(firstPid).toBeGreaterThan(0);
  expect(otherPid).toBeGreaterThan(0);
  const name = uniqueName('dp');
  const appKey = `${name}-${space}`;
  await core.apps.register(appKey);
  const drain = await feature.store.create('app', appKey, `https://localhost:${receiver.port}/procs`);
  await waitFor(async () => (await feature.drainState(drain.id))?.workers === 2, 'drain live in both processes', 15_000, 100);
  // A sink that takes its time, so the kill lands mid-delivery.
  receiver.answer = () => new Promise((r) => setTimeout(() => r(200), 40));
  const total = 20_000;
  const produced = await produceLines(core, { app: name, space, tag: 'pk', count: total, pad: 100, chunk: 2000 });
  const delivered = () => receiver.delivered('/procs').map((m) => parseRfc5424(m)!.msg);

  await waitFor(() => new Set(delivered()).size >= total * 0.3, 'a third delivered', 90_000, 20);
  process.kill(firstPid, 'SIGKILL');
  await waitFor(() => !alive(firstPid), 'the process gone');
  const atKill = delivered().length;
  // Readiness names the dead process until its successor's consumer runs: one death the supervisor
  // restarts from is not a crash loop (lib/dependencies CRASH_LOOP), so the node stays ready, DEGRADED.
  await waitFor(() => core.dependencies.crashedConsumers().includes('drains/1'), 'drains/1 reported crashed', 5000);
  const ready = await request(app).get('/health/ready');
  expect([ready.status, ready.body.state]).toEqual([200, 'DEGRADED']);
  expect(ready.body.dependencies['consumer:drains/1'].state).toBe('DOWN');
  await waitFor(() => feature.supervisor!.pids()[0] > 0 && feature.supervisor!.pids()[0] !== firstPid, 'process 1 restarted', 15_000, 100);
  expect(feature.supervisor!.pids()[1]).toBe(otherPid);

  const parked = async () => (await feature.dlq.list({ drain: drain.id }, 1000)).items.map((i) => i.line.message);
  await waitFor(async () => new Set([...delivered(), ...(await parked())]).size >= total, 'every line delivered or parked', 120_000, 200);
  await waitFor(() => core.dependencies.crashedConsumers().length === 0, 'the restarted process consuming', 60_000, 100);
  expect((await request(app).get('/health/ready')).body.dependencies['consumer:drains/1'].state).toBe('UP');

  const parkedLines = await parked();
  const duplicates = expectAccountedFor(produced, delivered(), parkedLines);
  if (process.env.DRAIN_TEST_VERBOSE)
    process.stderr.write(`process kill: delivered at kill ${atKill}, duplicates ${duplicates}, parked ${parkedLines.length}\n`);
  // Resent only what the dead process had delivered and not yet committed, never everything.
  expect(duplicates).toBeLessThan(atKill);

  // The processes' own counters reach this process's /metrics (the restarted one counts from 0, the
  // killed one's count died with it, so the merged figure is at most what arrived and more than 0).
  const metrics = await request(app).get('/metrics');
  expect(metrics.status).toBe(200);
  const series = new RegExp(`^logway_drain_delivered_total\\{drain="${drain.id}",app="${appKey}"\\} (\\d+)$`, 'm').exec(metrics.text);
  expect(series).not.toBeNull();
  expect(Number(series![1])).toBeGreaterThan(0);
  expect(Number(series![1])).toBeLessThanOrEqual(delivered().length);
  expect(metrics.text).toMatch(/^logway_kafka_consumer_up\{consumer="drains\/1"\} 1$/m);
  expect(metrics.text).toMatch(/^logway_kafka_consumer_up\{consumer="drains\/2"\} 1$/m);
});

it('stop ends every worker process', async () => {
  const pids = feature.supervisor!.pids();
  await feature.stop?.();
  for (const pid of pids) expect(alive(pid)).toBe(false);
  expect(Object.keys(core.dependencies.consumerStates()).filter((n) => n.startsWith('drains/'))).toEqual([]);
});
