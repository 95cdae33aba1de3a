/**
 * Bounded streams (issue 24): clients that never read cost a node at most their byte budget each,
 * from the first write on, and the node refuses streams past its own cap with a 503 to retry.
 * Real Kafka, real sockets that stop reading.
 */
import http from 'node:http';
import net from 'node:net';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature, TailFeatureOptions } from '../../lib/tail/feature';
import { createTestCore, uniqueName, authHeader } from '../helpers/env';
import { produceLines } from '../helpers/drain-fixtures';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

interface Node {
  core: Core;
  feature: TailFeature;
  server: http.Server;
  port: number;
}

async function startNode(opts: TailFeatureOptions): Promise<Node> {
  const core = createTestCore();
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${port}`;
  const feature = createTailFeature(core, { topicPollMs: 250, ...opts });
  server.on('request', createApp(core, [feature]));
  await feature.start();
  return { core, feature, server, port };
}

async function stopNode(n: Node): Promise<void> {
  await n.feature.stop();
  n.server.closeAllConnections();
  await new Promise<void>((r) => n.server.close(() => r()));
  await closeCore(n.core);
}

/** A client that sends its request and then never reads a byte of the answer. */
function stalledReader(port: number, path: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  socket.pause();
  return socket;
}

async function sessionPath(n: Node, appKey: string): Promise<string> {
  const res = await request(n.server).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 1, tail: true });
  expect(res.status).toBe(201);
  return new URL(res.body.logplex_url).pathname;
}

/** For one describe: a node with one app on a 1-partition space of its own; the sockets it opens are closed after. */
function nodeWithApp(tag: string, opts: TailFeatureOptions) {
  const ctx = { node: undefined as unknown as Node, space: uniqueName(tag), app: uniqueName(tag), sockets: [] as net.Socket[] };
  const appKey = () => `${ctx.app}-${ctx.space}`;
  beforeAll(async () => {
    ctx.node = await startNode(opts);
    await ctx.node.core.kafka.createTopic(ctx.space, 1);
    await ctx.node.core.apps.register(appKey());
  });
  afterAll(async () => {
    for (const s of ctx.sockets) s.destroy();
    await stopNode(ctx.node);
  });
  return { ctx, appKey };
}

describe('streams whose clients never read', () => {
  const budget = 1_048_576;
  const { ctx, appKey } = nodeWithApp('bnd', { sessionBufferBytes: budget, maxStreamsPerApp: 100, maxStreamsPerSession: 100 });

  it('hold at most their budget each, and the node far less than the lines sent to them', async () => {
    const path = await sessionPath(ctx.node, appKey());
    for (let i = 0; i < 50; i++) ctx.sockets.push(stalledReader(ctx.node.port, path));
    await waitFor('50 streams open', async () => ctx.node.feature.sessions.size === 50, 30_000);
    const rssBefore = process.memoryUsage().rss;
    // 3,000 lines of 4 KB each to every stream: 12 MB a stream, 600 MB in all if nothing held back.
    await produceLines(ctx.node.core, { app: ctx.app, space: ctx.space, tag: 'stall', count: 3000, dynos: 1, pad: 4000, chunk: 100 });
    const dropped = async () => (await ctx.node.feature.hub.metrics.linesDropped.get()).values[0]?.value ?? 0;
    await waitFor('every stream dropping', async () => (await dropped()) > 0 && [...ctx.node.feature.sessions].every((s) => s.held > 0), 60_000);
    // Settled: the hub has read all 3,000 lines (each stream took or dropped each one).
    const consumed = async () => (await ctx.node.feature.hub.metrics.linesConsumed.get()).values.reduce((n, v) => n + v.value, 0);
    await waitFor('all lines consumed', async () => (await consumed()) >= 3000, 60_000);
    for (const s of ctx.node.feature.sessions) expect(s.held).toBeLessThanOrEqual(budget);
    const grown = process.memoryUsage().rss - rssBefore;
    // The exact bound is each stream's `held` above. RSS also carries this process's producer, the
    // rings, Kafka's fetch buffers and garbage not yet collected; 300 MB is a
    // generous bound that 50 unbounded first writes (about 4.7 MB a stream, 235 MB) do not meet.
    expect(grown).toBeLessThan(300 * 1024 * 1024);
  });
});

describe("a node's cap on open streams", () => {
  const { ctx, appKey } = nodeWithApp('cap', { maxStreams: 3 });

  it('answers 503 with Retry-After past the cap, and serves again once a stream closes', async () => {
    const path = await sessionPath(ctx.node, appKey());
    for (let i = 0; i < 3; i++) ctx.sockets.push(stalledReader(ctx.node.port, path));
    await waitFor('3 streams open', async () => ctx.node.feature.sessions.size === 3, 30_000);
    const refused = await request(ctx.node.server).get(path).set('Accept', 'text/event-stream');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toEqual({ id: 'service_unavailable', message: 'This node has too many log streams open (3); retry later.' });
    ctx.sockets.pop()!.destroy();
    await waitFor('a slot free', async () => ctx.node.feature.sessions.size === 2, 30_000);
    const served = await new Promise<number>((resolve, reject) => {
      const req = http.get(`http://127.0.0.1:${ctx.node.port}${path}`, { headers: { Accept: 'text/event-stream' } }, (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      });
      req.on('error', reject);
    });
    expect(served).toBe(200);
  });
});
