/**
 * A first deployment against a Kafka that already holds logs: an app whose lines were all
 * written before any logway node existed is found in its space topic when a session asks for it
 * (docs/log-sessions.md "Apps logway has not seen yet"), so the session gets 201 and the app's
 * history. On the code before, the hub started at the end of every topic, nothing learned the
 * app, and POST /apps/:app/log-sessions answered 404 while its lines sat in Kafka.
 */
import http from 'node:http';
import request from 'supertest';
import { closeCore, Core } from '../../lib/core';
import { increasingTimes, produceAppLines } from '../helpers/app-message';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { TailNode } from '../helpers/tail-node';

jest.setTimeout(90_000);

const space = uniqueName('fd');
const app = uniqueName('f');
const other = uniqueName('o');
const key = `${app}-${space}`;

let node: TailNode | undefined;
/** Lines a minute old: written before the node starts. */
const produce = (writer: Core, name: string, logs: string[]) => produceAppLines(writer.kafka, space, name, logs, increasingTimes(Date.now() - 60_000));

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
  await node?.forgetApps().catch(() => undefined);
  await node?.stop();
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
  node = await TailNode.start({ space, feature: { reading: 'on-demand' } });
  const { core, feature, server } = node;
  // Reading on demand, the hub reads no topic until a session asks for one.
  expect(feature.hub.topics).not.toContain(space);

  // Drain workers of other test runs sharing this database may have learned the app from the topic
  // meanwhile (they read every topic): forget it, as a first deployment's registry would not have it.
  await node.forgetApps();
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
