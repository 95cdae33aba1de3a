/**
 * The destination policy at connect time, against real Kafka and PostgreSQL: drains created while
 * their loopback address was allowed (as drains created before the policy, or a name that rebinds)
 * are delivered by a worker whose policy refuses it. Every line is parked in the DLQ with the reason,
 * at once (a permanent failure), and no sink sees a connection, a datagram or a request.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import express from 'express';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { HttpsReceiver, produceLines, waitFor } from '../helpers/drain-fixtures';

jest.setTimeout(120_000);

let apiCore: Core;
let api: DrainsFeature;
let app: express.Express;
let workerCore: Core;
let worker: DrainsFeature;
let cert: TestCert;
let receiver: HttpsReceiver;
let tcp: net.Server;
let udp: dgram.Socket;
let tcpConnections = 0;
let datagrams = 0;
const space = uniqueName('ddst');

beforeAll(async () => {
  cert = makeTestCert();
  receiver = new HttpsReceiver(cert);
  await receiver.listen();
  tcp = net.createServer((s) => {
    tcpConnections++;
    s.destroy();
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  udp = dgram.createSocket('udp4');
  udp.on('message', () => datagrams++);
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));

  // The API node allows loopback (the suite's DRAIN_ALLOW_CIDRS); the worker node does not.
  apiCore = createTestCore();
  api = createDrainsFeature(apiCore, { worker: false });
  app = createApp(apiCore, [api]);
  workerCore = createTestCore({ DRAIN_ALLOW_CIDRS: '' });
  await workerCore.kafka.createTopic(space, 2);
  worker = createDrainsFeature(workerCore, {
    groupId: uniqueName('drains-destination-'),
    topics: [space],
    fromBeginning: true,
    topicRefreshMs: 500,
    commitIntervalMs: 200,
    // Many attempts with a long cap: a line parked quickly shows the refusal was not retried.
    retry: { baseMs: 1000, capMs: 30_000, attempts: 50 },
    connectTimeoutMs: 2000,
    tlsCa: cert.ca,
  });
  await worker.start?.();
});

afterAll(async () => {
  if (apiCore) await apiCore.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${space}`]).catch(() => undefined);
  await worker?.stop?.();
  await api?.stop?.();
  if (workerCore) await closeCore(workerCore);
  if (apiCore) await closeCore(apiCore);
  await receiver?.close();
  tcp?.close();
  udp?.close();
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

async function createDrain(appKey: string, url: string): Promise<string> {
  const res = await request(app).post(`/apps/${appKey}/log-drains`).set(authHeader).send({ url });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(() => worker.worker?.senderOf(id) !== undefined, `drain ${id} live in the worker`, 10_000);
  return id;
}

it('parks every line of a drain whose address the worker refuses, with the reason, and connects nowhere', async () => {
  const name = uniqueName('dd');
  const appKey = `${name}-${space}`;
  await apiCore.apps.register(appKey);
  const drains: Record<string, { id: string; reason: string }> = {
    tcp: {
      id: await createDrain(appKey, `syslog://127.0.0.1:${(tcp.address() as net.AddressInfo).port}`),
      reason: `tcp://127.0.0.1:${(tcp.address() as net.AddressInfo).port}: drain destination not allowed: 127.0.0.1 is a loopback address`,
    },
    tls: {
      id: await createDrain(appKey, `syslog+tls://localhost:${(tcp.address() as net.AddressInfo).port}`),
      reason: `tls://localhost:${(tcp.address() as net.AddressInfo).port}: drain destination not allowed: localhost resolves to 127.0.0.1, a loopback address`,
    },
    udp: {
      id: await createDrain(appKey, `syslog+udp://127.0.0.1:${(udp.address() as net.AddressInfo).port}`),
      reason: `udp://127.0.0.1:${(udp.address() as net.AddressInfo).port}: drain destination not allowed: 127.0.0.1 is a loopback address`,
    },
    https: {
      id: await createDrain(appKey, `https://localhost:${receiver.port}/refused`),
      reason: `https://localhost:${receiver.port}: drain destination not allowed: localhost resolves to 127.0.0.1, a loopback address`,
    },
  };
  const produced = await produceLines(workerCore, { app: name, space, tag: 'dd', count: 6, dynos: 2 });

  for (const [kind, { id, reason }] of Object.entries(drains)) {
    await waitFor(async () => (await worker.dlq.count({ drain: id })) === produced.length, `${kind} lines parked`);
    const { items } = await worker.dlq.list({ drain: id }, 100);
    expect(items.map((i) => i.line.message).sort()).toEqual(produced.map((p) => p.message).sort());
    for (const item of items) {
      expect(item.lastError).toBe(reason);
      // Permanent: parked on the first attempt, not after the retry budget.
      expect(item.attempts).toBe(1);
    }
  }
  expect(tcpConnections).toBe(0);
  expect(datagrams).toBe(0);
  expect(receiver.requests.filter((r) => r.path === '/refused')).toHaveLength(0);
});
