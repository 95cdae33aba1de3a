/**
 * A topic deleted while logway runs (an Akkeris space removed), with Kafka's own TopicCommand:
 * the tail hub and the drain worker drop it (one warn each), never crash-loop on it, and keep
 * serving the other topics; a topic created afterwards is still picked up and its apps learned.
 * On the code before the fix the hub kept subscribing to the deleted topic and kafkajs restarted
 * its consumer every 200 ms ("This server does not host this topic-partition"): new apps were
 * never learned (404) and no line reached a session.
 */
import fs from 'node:fs';
import request from 'supertest';
import express from 'express';
import { createApp } from '../../bin/wiring';
import { closeCore, Core, createCore } from '../../lib/core';
import { createLogger } from '../../lib/logger';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, testConfig, uniqueName } from '../helpers/env';
import { deleteTopicWithTopicCommand } from '../helpers/topic-command';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { HttpsReceiver, parseRfc5424, produceLines, tally, waitFor } from '../helpers/drain-fixtures';

jest.setTimeout(180_000);

const prefix = uniqueName('tdel');
const gone = `${prefix}a`;
const kept = `${prefix}b`;
const later = `${prefix}c`;
const appGone = uniqueName('g');
const appKept = uniqueName('k');
const appLater = uniqueName('l');

/** Every log line of the node, parsed (warn and above). */
const logs: { msg?: string; topic?: string; component?: string; level: number }[] = [];
let core: Core;
let cert: TestCert;
let receiver: HttpsReceiver;
let tail: TailFeature;
let drains: DrainsFeature;
let app: express.Express;
let crashSpy: jest.SpyInstance;

/** Every consumer crash kafkajs reports (the logs are rate-limited; the tracker hears each one). */
const crashes = () => crashSpy.mock.calls.length;
const deletedWarnings = (component: string) => logs.filter((l) => l.component === component && l.topic === gone && /deleted/i.test(l.msg ?? '')).length;
const ringSize = (key: string) => tail.hub.rings.peek(key)?.size ?? 0;
const messagesAt = (p: string) => receiver.delivered(p).map((m) => parseRfc5424(m)!.msg);

beforeAll(async () => {
  cert = makeTestCert();
  receiver = new HttpsReceiver(cert);
  await receiver.listen();
  const config = testConfig();
  const logger = createLogger('warn', { write: (s: string) => void logs.push(JSON.parse(s)) });
  core = createCore(config, { logger, defaultMetrics: false });
  crashSpy = jest.spyOn(core.dependencies, 'consumerCrashed');
  await core.kafka.createTopic(gone, 2);
  await core.kafka.createTopic(kept, 2);
  tail = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250, topicFilter: (t) => t.startsWith(prefix) });
  drains = createDrainsFeature(core, {
    groupId: uniqueName('drains-tdel-'),
    topics: [new RegExp(`^${prefix}`)],
    fromBeginning: false,
    topicRefreshMs: 250,
    commitIntervalMs: 200,
    retry: { baseMs: 20, capMs: 200, attempts: 4 },
    tlsCa: cert.ca,
  });
  app = createApp(core, [tail, drains]);
  await tail.start();
  await drains.start?.();
});

afterAll(async () => {
  if (core) await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${prefix}%`]).catch(() => undefined);
  await drains?.stop?.();
  await tail?.stop();
  await receiver?.close();
  if (core) await closeCore(core);
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

it('a deleted topic is dropped without a crash loop; the others and new topics keep flowing', async () => {
  const worker = drains.worker!;
  await waitFor(() => tail.hub.topics.includes(gone) && tail.hub.topics.includes(kept), 'the hub reads both topics');
  await waitFor(() => worker.subscribedTopics.includes(gone) && worker.subscribedTopics.includes(kept), 'the drain worker reads both topics');

  const keyGone = `${appGone}-${gone}`;
  const keyKept = `${appKept}-${kept}`;
  const keyLater = `${appLater}-${later}`;
  await core.apps.register(keyKept);
  const drainRes = await request(app)
    .post(`/apps/${keyKept}/log-drains`)
    .set(authHeader)
    .send({ url: `https://localhost:${receiver.port}/kept` });
  expect(drainRes.status).toBe(201);
  await waitFor(() => worker.senderOf(drainRes.body.id) !== undefined, 'the drain live in the worker');

  // Written by a client that is gone before the deletion: kafkajs's auto-creating producer names
  // every topic it wrote to in its metadata requests, and would create the deleted topic again.
  const writer = createTestCore();
  await produceLines(writer, { app: appGone, space: gone, tag: 'gone', count: 10 });
  await closeCore(writer);
  const before = await produceLines(core, { app: appKept, space: kept, tag: 'before', count: 10 });
  await waitFor(() => ringSize(keyGone) === 10 && ringSize(keyKept) === 10, 'both apps tailed');
  await waitFor(async () => (await core.apps.find(keyKept)) !== null, 'the kept app learned');

  deleteTopicWithTopicCommand(gone);
  await waitFor(() => !tail.hub.topics.includes(gone), 'the hub dropped the deleted topic');
  await waitFor(() => !worker.subscribedTopics.includes(gone) && worker.subscribedTopics.includes(kept), 'the worker dropped the deleted topic');

  // The other topic keeps flowing, and a space created afterwards is picked up and its app learned.
  const after = await produceLines(core, { app: appKept, space: kept, tag: 'after', count: 20 });
  await core.kafka.createTopic(later, 2);
  await produceLines(core, { app: appLater, space: later, tag: 'later', count: 15 });
  await waitFor(() => ringSize(keyKept) === 30, 'the kept app tailed after the deletion');
  await waitFor(() => ringSize(keyLater) === 15, 'the new topic tailed');
  await waitFor(
    async () => (await request(app).post(`/apps/${keyLater}/log-sessions`).set(authHeader).send({ lines: 5 })).status === 201,
    'a session for the new app',
  );
  await waitFor(() => new Set(messagesAt('/kept')).size === before.length + after.length, 'the drain got every line');

  // No crash loop: once everything flows, more lines flow without a single further crash.
  const settled = crashes();
  const more = await produceLines(core, { app: appKept, space: kept, tag: 'more', count: 5 });
  await produceLines(core, { app: appLater, space: later, tag: 'more', count: 5 });
  await waitFor(() => ringSize(keyKept) === 35 && ringSize(keyLater) === 20, 'more lines tailed');
  await waitFor(() => new Set(messagesAt('/kept')).size === before.length + after.length + more.length, 'more lines drained');
  expect(crashes()).toBe(settled);
  // One warn per deleted topic per consumer, not one per retry.
  expect(deletedWarnings('tail-hub')).toBe(1);
  expect(deletedWarnings('drains')).toBe(1);

  // Exact counts on the drain: every line of the kept topic, once.
  const got = messagesAt('/kept');
  expect([...tally(got).values()].every((n) => n === 1)).toBe(true);
  expect(got.sort()).toEqual([...before, ...after, ...more].map((p) => p.message).sort());
});
