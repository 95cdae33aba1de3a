/**
 * Every 429 says when to come back (issue 13): session creation for an app this node has not seen
 * looks for it in Kafka through the read-back limiter; when that is full the answer is 429 with
 * `Retry-After`, as the stream URL's 429s are. On the code before, only GET /log-sessions/:token
 * set the header (a special case in lib/tail/feature.ts), so this 429 came without it.
 */
import request from 'supertest';
import { closeCore } from '../../lib/core';
import { increasingTimes, produceAppLines } from '../helpers/app-message';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { TailNode } from '../helpers/tail-node';

jest.setTimeout(90_000);

const space = uniqueName('ra');
const app = uniqueName('r');
const key = `${app}-${space}`;

let node: TailNode | undefined;

afterAll(async () => {
  await node?.forgetApps().catch(() => undefined);
  await node?.stop();
});

it('POST /apps/:app/log-sessions refused by the read-back limiter is 429 with Retry-After; 201 once a slot is free', async () => {
  // Lines of an app written before the node starts: only a read-back can find it.
  const writer = createTestCore();
  await writer.kafka.createTopic(space, 1);
  await produceAppLines(writer.kafka, space, app, ['before'], increasingTimes(Date.now() - 60_000));
  await closeCore(writer);

  node = await TailNode.start({ space, env: { MAX_CONCURRENT_READBACKS: '1' }, feature: { reading: 'every-topic', readbackQueueLength: 0 } });
  const { feature, server } = node;
  expect(feature.hub.topics).toContain(space);

  // The node's only read-back slot is taken (another session's history read).
  // Drain workers of other test runs sharing this database may have learned the app from the topic
  // meanwhile (they read every topic): forget it, as a node that has not seen it would.
  await node.forgetApps();
  await feature.hub.readbacks.acquire();
  try {
    const busy = await request(server).post(`/apps/${key}/log-sessions`).set(authHeader).send({ lines: 5 });
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.body.id).toBe('rate_limited');
  } finally {
    feature.hub.readbacks.release();
  }
  const ok = await request(server).post(`/apps/${key}/log-sessions`).set(authHeader).send({ lines: 5 });
  expect(ok.status).toBe(201);
});
