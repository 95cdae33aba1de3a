/**
 * A first deployment against a Kafka that already holds logs: an app whose lines were all
 * written before any logway node existed is found in its space topic when a session asks for it
 * (docs/log-sessions.md "Apps logway has not seen yet"), so the session gets 201 and the app's
 * history. On the code before, the hub started at the end of every topic, nothing learned the
 * app, and POST /apps/:app/log-sessions answered 404 while its lines sat in Kafka.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';

jest.setTimeout(90_000);

const space = uniqueName('fd');
const app = uniqueName('f');
const other = uniqueName('o');
const key = `${app}-${space}`;

let core: Core | undefined;
let feature: TailFeature | undefined;
let server: http.Server | undefined;

/** Akkeris app-log lines (fluentd JSON) for `name`, written to the space topic. */
async function produce(c: Core, name: string, logs: string[]): Promise<string[]> {
  const out: string[] = [];
  const records = logs.map((log, i) => {
    const t = new Date(Date.now() - 60_000 + i);
    out.push(`${t.toISOString()} ${name}-${space} app[web.1-abcde]: ${log}`);
    return {
      key: name,
      value: JSON.stringify({
        log,
        stream: 'stdout',
        time: t.toISOString(),
        kubernetes: { container_name: name, pod_name: `${name}-web-1-abcde` },
        topic: space,
      }),
    };
  });
  await c.kafka.produce(space, records);
  return out;
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

afterAll(async () => {
  await feature?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (core) {
    await core.db.query('DELETE FROM apps WHERE space = $1', [space]).catch(() => undefined);
    await closeCore(core);
  }
});

it('an app whose lines all predate logway gets a session with its history', async () => {
  // Before any logway node exists: a new space, its lines, and no app registered for it.
  const writer = createTestCore();
  await writer.kafka.createTopic(space, 3);
  const lines = await produce(writer, app, ['one', 'two', 'three', 'four']);
  await produce(writer, other, ['someone else']);
  expect(await writer.apps.find(key)).toBeNull();
  await closeCore(writer);

  // The first node starts, at the end of every topic.
  core = createTestCore();
  server = http.createServer();
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  feature = createTailFeature(core, { topicPollMs: 250 });
  server.on('request', createApp(core, [feature]));
  await feature.start();
  // Reading on demand, the hub reads no topic until a session asks for one.
  expect(feature.hub.topics).not.toContain(space);

  // Drain workers of other test runs sharing this database may have learned the app from the topic
  // meanwhile (they read every topic): forget it, as a first deployment's registry would not have it.
  await core.db.query('DELETE FROM apps WHERE space = $1', [space]);
  const res = await request(server).post(`/apps/${key}/log-sessions`).set(authHeader).send({ lines: 10, tail: false });
  expect(res.status).toBe(201);
  expect(await readAll(res.body.logplex_url)).toBe(lines.map((l) => `${l}\n`).join(''));
  expect(await core.apps.find(key)).not.toBeNull();

  // Apps that Kafka does not hold are still unknown: in that space, and in a space with no topic,
  // without another Kafka read (nothing was written to the scanned space since; the other has no
  // topic to read).
  const reads = jest.spyOn(core.kafka, 'readRanges');
  const missing = await request(server)
    .post(`/apps/${uniqueName('n')}-${space}/log-sessions`)
    .set(authHeader)
    .send({});
  expect(missing.status).toBe(404);
  expect(missing.body.message).toMatch(/does not exist/);
  const noTopic = await request(server)
    .post(`/apps/${app}-${uniqueName('nospace')}/log-sessions`)
    .set(authHeader)
    .send({});
  expect(noTopic.status).toBe(404);
  expect(reads).not.toHaveBeenCalled();
});
