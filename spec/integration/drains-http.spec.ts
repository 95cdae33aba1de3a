/**
 * HTTPS drains against a real node https receiver (test CA), fed from real Kafka: Logplex headers,
 * framing, batching, basic auth; 500 then 200 (same frame id on retry); 400 straight to the DLQ and
 * the DLQ round trip; a hung drain not delaying another drain of the same app (with the worker in
 * this process and with 2 drain worker processes). Every case ends with an exact count: produced =
 * delivered + parked.
 */
import fs from 'node:fs';
import express from 'express';
import request from 'supertest';
import { closeCore, Core } from '../../lib/core';
import type { DrainsFeature, DrainsOptions } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { createDrain as createDrainOn, DrainsNode, startDrainsNode, stopDrainsNodes } from '../helpers/drains-node';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { HttpsReceiver, inOrderPerDyno, parseRfc5424, produceLines, tally, waitFor } from '../helpers/drain-fixtures';

jest.setTimeout(120_000);

let core: Core;
let feature: DrainsFeature;
let app: express.Express;
let cert: TestCert;
let receiver: HttpsReceiver;
const space = uniqueName('dhs');
const newApp = () => uniqueName('dh');

/** The node's drains in this process and in 2 worker processes, each on its own space. */
let inProcess: DrainsNode;
let twoProcesses: DrainsNode;

function drainsOptions(): DrainsOptions {
  return {
    groupId: uniqueName('drains-http-'),
    fromBeginning: true,
    topicRefreshMs: 500,
    commitIntervalMs: 200,
    dlqPollMs: 300,
    // Long enough that only LISTEN/NOTIFY can make a new drain live within the test's deadlines.
    cacheRefreshMs: 600_000,
    retry: { baseMs: 20, capMs: 200, attempts: 4 },
    queueMax: 300,
    writeTimeoutMs: 60_000,
    overflowWaitMs: 3000,
    tlsCa: cert.ca,
  };
}

beforeAll(async () => {
  cert = makeTestCert();
  receiver = new HttpsReceiver(cert);
  await receiver.listen();
  core = createTestCore();
  inProcess = await startDrainsNode(core, space, drainsOptions());
  ({ feature, app } = inProcess);
  twoProcesses = await startDrainsNode(core, uniqueName('dhs'), drainsOptions(), 2);
});

afterAll(async () => {
  await stopDrainsNodes(core, [inProcess, twoProcesses]);
  await receiver?.close();
  if (core) await closeCore(core);
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

const createDrain = (appKey: string, url: string, node: DrainsNode = inProcess) => createDrainOn(core, node, appKey, url);

const dlqCount = (drain: string) => feature.dlq.count({ drain });

it('POSTs application/logplex-1 batches ≤ 100 KB with the Logplex headers and basic auth', async () => {
  const name = newApp();
  const appKey = `${name}-${space}`;
  const id = await createDrain(appKey, `https://logway:s3cr%40t@localhost:${receiver.port}/h1`);
  const produced = await produceLines(core, { app: name, space, tag: 'h1', count: 2000, pad: 150 });
  await waitFor(() => new Set(receiver.delivered('/h1')).size === produced.length, 'all h1 lines', 60_000);

  const reqs = receiver.requests.filter((r) => r.path === '/h1');
  const totalBytes = reqs.reduce((n, r) => n + r.body.length, 0);
  expect(reqs.length).toBeGreaterThanOrEqual(Math.ceil(totalBytes / (100 * 1024)));
  expect(reqs.length).toBeLessThan(produced.length / 10);
  const frameIds = new Set<string>();
  for (const r of reqs) {
    expect(r.headers['content-type']).toBe('application/logplex-1');
    expect(r.headers['logplex-drain-token']).toBe(appKey);
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('logway:s3cr@t').toString('base64')}`);
    expect(Number(r.headers['logplex-msg-count'])).toBe(r.messages.length);
    expect(r.body.length).toBeLessThanOrEqual(100 * 1024);
    expect(r.headers['logplex-frame-id']).toMatch(/^[0-9a-f-]{36}$/);
    frameIds.add(String(r.headers['logplex-frame-id']));
  }
  expect(frameIds.size).toBe(reqs.length);

  const parsed = receiver.delivered('/h1').map((m) => parseRfc5424(m));
  const byMessage = new Map(produced.map((p) => [p.message, p]));
  const messages: string[] = [];
  for (const p of parsed) {
    expect(p).not.toBeNull();
    expect(p).toMatchObject({ pri: 14, version: '1', hostname: appKey, appName: 'app', msgId: '-', sd: '-' });
    const src = byMessage.get(p!.msg);
    expect(src).toBeDefined();
    expect(p!.procId).toBe(src!.dyno);
    messages.push(p!.msg);
  }
  // Exact count: every line once, nothing parked, and in order per dyno.
  expect(messages).toHaveLength(produced.length);
  expect(inOrderPerDyno(messages)).toBe(true);
  expect(await dlqCount(id)).toBe(0);

  const text = await core.prom.registry.metrics();
  expect(text).toContain(`logway_drain_delivered_total{drain="${id}",app="${appKey}"} ${produced.length}`);
  expect(text).toMatch(new RegExp(`logway_drain_last_success_timestamp_seconds\\{drain="${id}",app="${appKey}"\\} \\d+`));
});

it('retries a 500 with the same Logplex-Frame-Id and body, then delivers once', async () => {
  const name = newApp();
  const appKey = `${name}-${space}`;
  const id = await createDrain(appKey, `https://localhost:${receiver.port}/h2`);
  receiver.answer = (r, n) => (r.path === '/h2' && n < 2 ? 500 : 200);
  const produced = await produceLines(core, { app: name, space, tag: 'h2', count: 50, dynos: 1 });
  await waitFor(() => new Set(receiver.delivered('/h2')).size === produced.length, 'all h2 lines');
  const reqs = receiver.requests.filter((r) => r.path === '/h2');
  expect(reqs.slice(0, 3).map((r) => r.status)).toEqual([500, 500, 200]);
  expect(reqs[1].headers['logplex-frame-id']).toBe(reqs[0].headers['logplex-frame-id']);
  expect(reqs[2].headers['logplex-frame-id']).toBe(reqs[0].headers['logplex-frame-id']);
  expect(reqs[1].body.equals(reqs[0].body)).toBe(true);
  expect(reqs[2].body.equals(reqs[0].body)).toBe(true);
  const delivered = receiver.delivered('/h2').map((m) => parseRfc5424(m)!.msg);
  // produced = delivered (each exactly once) + parked (none)
  expect([...tally(delivered).values()].every((n) => n === 1)).toBe(true);
  expect(delivered.sort()).toEqual(produced.map((p) => p.message).sort());
  expect(await dlqCount(id)).toBe(0);
  const text = await core.prom.registry.metrics();
  expect(text).toMatch(new RegExp(`logway_drain_retried_total\\{drain="${id}",app="${appKey}"\\} [1-9]`));
  receiver.answer = () => 200;
});

it('parks a 400 at once (permanent); the DLQ lists, retries by id and by drain, and discards', async () => {
  const name = newApp();
  const appKey = `${name}-${space}`;
  const id = await createDrain(appKey, `https://localhost:${receiver.port}/h3`);
  let accept = false;
  receiver.answer = (r) => (r.path === '/h3' && !accept ? 400 : 200);
  const produced = await produceLines(core, { app: name, space, tag: 'h3', count: 30 });
  await waitFor(async () => (await dlqCount(id)) === produced.length, 'h3 lines parked');
  // Straight to the DLQ: each line was sent once, never retried.
  const sent = receiver.requests.filter((r) => r.path === '/h3').flatMap((r) => r.messages.map((m) => parseRfc5424(m)!.msg));
  expect(sent.sort()).toEqual(produced.map((p) => p.message).sort());

  const list = await request(app).get(`/drains/dlq?drain=${id}&limit=10`).set(authHeader);
  expect(list.status).toBe(200);
  expect(list.body.count).toBe(30);
  expect(list.body.items).toHaveLength(10);
  for (const item of list.body.items) {
    expect(item).toMatchObject({ drain_id: id, app: appKey, attempts: 1, last_error: 'HTTP 400 Bad Request', state: 'parked' });
    expect(item.line).toMatchObject({ app_key: appKey, source: 'app', kafka_topic: space });
    expect(produced.map((p) => p.message)).toContain(item.line.message);
    expect(item.first_attempt_at).not.toBeNull();
  }
  const byApp = await request(app).get(`/drains/dlq?app=${appKey}&limit=0`).set(authHeader);
  expect(byApp.body).toEqual({ count: 30, items: [], dropped: 0, dropped_by_drain: [] });

  accept = true;
  const two = list.body.items.slice(0, 2).map((i: { id: string }) => i.id);
  const retryIds = await request(app).post('/drains/dlq/retry').set(authHeader).send({ ids: two });
  expect(retryIds.status).toBe(202);
  expect(retryIds.body).toEqual({ retried: 2 });
  await waitFor(async () => (await dlqCount(id)) === 28, 'two retried lines delivered');
  const retryAll = await request(app).post('/drains/dlq/retry').set(authHeader).send({ drain: id });
  expect(retryAll.body).toEqual({ retried: 28 });
  await waitFor(async () => (await dlqCount(id)) === 0, 'DLQ of h3 empty');
  const delivered = receiver.delivered('/h3').map((m) => parseRfc5424(m)!.msg);
  expect(delivered.sort()).toEqual(produced.map((p) => p.message).sort());

  // Discard: park 10 more, throw them away.
  accept = false;
  const more = await produceLines(core, { app: name, space, tag: 'h3b', count: 10 });
  await waitFor(async () => (await dlqCount(id)) === more.length, 'h3b lines parked');
  const discard = await request(app).delete(`/drains/dlq?drain=${id}`).set(authHeader);
  expect(discard.status).toBe(200);
  expect(discard.body).toEqual({ discarded: 10 });
  expect(await dlqCount(id)).toBe(0);
  receiver.answer = () => 200;
});

describe.each([
  ['in this process', () => inProcess],
  ['in 2 worker processes', () => twoProcesses],
] as const)('drain worker %s', (_mode, nodeOf) => {
  it('a hung drain does not hold up another drain of the same app; its lines end parked, none lost', async () => {
    const node = nodeOf();
    const space = node.space;
    const hung = new HttpsReceiver(cert);
    await hung.listen();
    hung.answer = () => new Promise<number>(() => undefined);
    const name = newApp();
    const appKey = `${name}-${space}`;
    const good = await createDrain(appKey, `https://localhost:${receiver.port}/h4-${node.workers}`, node);
    const bad = await createDrain(appKey, `https://localhost:${hung.port}/hung`, node);
    const produced = await produceLines(core, { app: name, space, tag: 'h4', count: 500 });

    await waitFor(() => new Set(receiver.delivered(`/h4-${node.workers}`)).size === produced.length, 'the healthy drain got every line');
    // The healthy drain finished while the hung one still holds lines: it never waited for it.
    expect((await node.feature.drainState(bad))!.depth).toBeGreaterThan(0);
    expect(hung.requests.filter((r) => r.status >= 200).length).toBe(0);
    // Its queue is bounded (queueMax 300 per worker): the overflow went to the DLQ instead of blocking anything.
    await waitFor(async () => (await dlqCount(bad)) >= produced.length - 300 * node.workers, 'overflow parked');

    await hung.close();
    await waitFor(async () => (await dlqCount(bad)) === produced.length, 'all hung-drain lines parked', 60_000);
    expect((await node.feature.drainState(bad))!.depth).toBe(0);
    const delivered = receiver.delivered(`/h4-${node.workers}`).map((m) => parseRfc5424(m)!.msg);
    expect(delivered).toHaveLength(produced.length);
    expect(await dlqCount(good)).toBe(0);
  });
});

it('a deleted drain stops within seconds (LISTEN/NOTIFY)', async () => {
  const name = newApp();
  const appKey = `${name}-${space}`;
  const id = await createDrain(appKey, `https://localhost:${receiver.port}/h5`);
  const res = await request(app).delete(`/apps/${appKey}/log-drains/${id}`).set(authHeader);
  expect(res.status).toBe(200);
  await waitFor(() => feature.worker?.senderOf(id) === undefined, 'deleted drain gone from the worker', 10_000);
});
