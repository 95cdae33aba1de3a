/**
 * Every 429 says when to come back (issue 13): session creation for an app this node has not seen
 * looks for it in Kafka through the read-back limiter; when that is full the answer is 429 with
 * `Retry-After`, as the stream URL's 429s are. On the code before, only GET /log-sessions/:token
 * set the header (a special case in lib/tail/feature.ts), so this 429 came without it.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';

jest.setTimeout(90_000);

const space = uniqueName('ra');
const app = uniqueName('r');
const key = `${app}-${space}`;

let core: Core | undefined;
let feature: TailFeature | undefined;
let server: http.Server | undefined;

afterAll(async () => {
  await feature?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (core) {
    await core.db.query('DELETE FROM apps WHERE space = $1', [space]).catch(() => undefined);
    await closeCore(core);
  }
});

it('POST /apps/:app/log-sessions refused by the read-back limiter is 429 with Retry-After; 201 once a slot is free', async () => {
  // Lines of an app written before the node starts: only a read-back can find it.
  const writer = createTestCore();
  await writer.kafka.createTopic(space, 1);
  const t = new Date(Date.now() - 60_000).toISOString();
  await writer.kafka.produce(space, [
    {
      key: app,
      value: JSON.stringify({ log: 'before', stream: 'stdout', time: t, kubernetes: { container_name: app, pod_name: `${app}-web-1-abcde` }, topic: space }),
    },
  ]);
  await closeCore(writer);

  core = createTestCore({ MAX_CONCURRENT_READBACKS: '1' });
  server = http.createServer();
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  feature = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250, readbackQueueLength: 0 });
  server.on('request', createApp(core, [feature]));
  await feature.start();
  expect(feature.hub.topics).toContain(space);

  // The node's only read-back slot is taken (another session's history read).
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
