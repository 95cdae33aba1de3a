/**
 * Where a drain consumer group starts reading (docs/drains.md "Where reading starts"), with the
 * production setting `fromBeginning: false`, against real Kafka and an HTTPS receiver:
 * - a brand-new group starts at the end of the topics that exist (no replay of retention);
 * - a topic created while the worker runs, and written to before the worker notices it, is read
 *   from its first line;
 * - a restarted worker resumes old topics from the commit (no replay) and reads a topic created
 *   while it was down from its start.
 * Every case ends with an exact count per drain.
 */
import fs from 'node:fs';
import express from 'express';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature, DrainsOptions } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { HttpsReceiver, parseRfc5424, produceLines, tally, waitFor } from '../helpers/drain-fixtures';

jest.setTimeout(120_000);

let core: Core;
let cert: TestCert;
let receiver: HttpsReceiver;
let feature: DrainsFeature | undefined;
const prefix = uniqueName('dtp');
const spaceOld = `${prefix}a`;
const spaceNew = `${prefix}b`;
const spaceDown = `${prefix}c`;
const appName = uniqueName('dt');
const groupId = uniqueName('drains-topics-');

function workerOptions(): DrainsOptions {
  return {
    groupId,
    topics: [new RegExp(`^${prefix}`)],
    // The production setting: a brand-new group starts at the end.
    fromBeginning: false,
    // New topics are picked up only when the test calls resubscribe(), so lines are certainly
    // written to the new topic before the worker subscribes to it.
    topicRefreshMs: 600_000,
    commitIntervalMs: 200,
    retry: { baseMs: 20, capMs: 200, attempts: 4 },
    tlsCa: cert.ca,
  };
}

async function startWorker(): Promise<{ feature: DrainsFeature; app: express.Express }> {
  const f = createDrainsFeature(core, workerOptions());
  await f.start?.();
  return { feature: f, app: createApp(core, [f]) };
}

async function createDrain(app: express.Express, f: DrainsFeature, appKey: string, path: string): Promise<string> {
  await core.apps.register(appKey);
  const res = await request(app)
    .post(`/apps/${appKey}/log-drains`)
    .set(authHeader)
    .send({ url: `https://localhost:${receiver.port}${path}` });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(() => f.worker?.senderOf(id) !== undefined, `drain ${id} live in the worker`, 10_000);
  return id;
}

const messagesAt = (path: string) => receiver.delivered(path).map((m) => parseRfc5424(m)!.msg);

beforeAll(async () => {
  cert = makeTestCert();
  receiver = new HttpsReceiver(cert);
  await receiver.listen();
  core = createTestCore();
});

afterAll(async () => {
  if (core) await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${prefix}%`]).catch(() => undefined);
  await feature?.stop?.();
  await receiver?.close();
  if (core) await closeCore(core);
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

it('a new group starts at the end; a new topic and one created while the worker was down are read from their first line', async () => {
  // Lines already in a topic when the group is created: a new deployment does not replay them.
  await core.kafka.createTopic(spaceOld, 3);
  const before = await produceLines(core, { app: appName, space: spaceOld, tag: 'before', count: 20 });

  let started = await startWorker();
  feature = started.feature;
  const worker = feature.worker!;
  await waitFor(() => worker.subscribedTopics.includes(spaceOld), 'subscribed to the old topic');
  const drainOld = await createDrain(started.app, feature, `${appName}-${spaceOld}`, '/old');
  const drainNew = await createDrain(started.app, feature, `${appName}-${spaceNew}`, '/new');
  const drainDown = await createDrain(started.app, feature, `${appName}-${spaceDown}`, '/down');

  const after = await produceLines(core, { app: appName, space: spaceOld, tag: 'after', count: 30 });

  // A brand-new space: topic created and written to at once, before the worker knows the topic.
  await core.kafka.createTopic(spaceNew, 3);
  const fresh = await produceLines(core, { app: appName, space: spaceNew, tag: 'fresh', count: 40 });
  expect(worker.subscribedTopics).not.toContain(spaceNew);
  await worker.resubscribe();
  expect(worker.subscribedTopics).toContain(spaceNew);

  await waitFor(() => new Set(messagesAt('/new')).size === fresh.length, 'every line of the new topic');
  await waitFor(() => new Set(messagesAt('/old')).size === after.length, 'every line written to the old topic after the start');
  // Everything committed before the worker goes away.
  await waitFor(() => worker.unsettled === 0, 'lines settled');

  await feature.stop?.();
  feature = undefined;

  // While no worker runs: more lines to the old topic, and a new space with lines.
  const whileDown = await produceLines(core, { app: appName, space: spaceOld, tag: 'down', count: 25 });
  await core.kafka.createTopic(spaceDown, 3);
  const downTopic = await produceLines(core, { app: appName, space: spaceDown, tag: 'downtopic', count: 35 });

  started = await startWorker();
  feature = started.feature;
  await waitFor(() => new Set(messagesAt('/down')).size === downTopic.length, 'every line of the topic created while down');
  await waitFor(() => new Set(messagesAt('/old')).size === after.length + whileDown.length, 'the old topic resumed from its commit');
  await waitFor(() => feature!.worker!.unsettled === 0, 'lines settled after the restart');

  // Exact counts, each line once: the pre-start lines never, old lines not replayed after the restart.
  const exactly = (path: string, want: string[]) => {
    const got = messagesAt(path);
    expect([...tally(got).values()].every((n) => n === 1)).toBe(true);
    expect(got.sort()).toEqual([...want].sort());
  };
  exactly(
    '/old',
    [...after, ...whileDown].map((p) => p.message),
  );
  exactly(
    '/new',
    fresh.map((p) => p.message),
  );
  exactly(
    '/down',
    downTopic.map((p) => p.message),
  );
  expect(messagesAt('/old').some((m) => before.some((b) => b.message === m))).toBe(false);
  for (const id of [drainOld, drainNew, drainDown]) expect(await feature.dlq.count({ drain: id })).toBe(0);
});
