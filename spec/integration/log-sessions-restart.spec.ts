/**
 * Restart: a logway node is stopped and a new one started (cold: empty rings). New sessions
 * still get the right history (read back from Kafka), and an SSE client of the old node resumes
 * on the new one with Last-Event-ID, missing nothing and repeating nothing.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { createTestCore, uniqueName, authHeader } from '../helpers/env';

jest.setTimeout(90_000);

interface Node {
  core: Core;
  feature: TailFeature;
  server: http.Server;
  base: string;
}

async function startNode(): Promise<Node> {
  const core = createTestCore();
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (core.config as { publicUrl: string }).publicUrl = base;
  const feature = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250 });
  server.on('request', createApp(core, [feature]));
  await feature.start();
  return { core, feature, server, base };
}

async function stopNode(n: Node): Promise<void> {
  await n.feature.stop();
  n.server.closeAllConnections();
  await new Promise<void>((r) => n.server.close(() => r()));
  await closeCore(n.core);
}

/** GETs a stream until `until` holds on the text read so far (or the response ends), then closes it. */
function read(
  url: string,
  headers: Record<string, string>,
  until: (text: string) => boolean = () => false,
  ms = 20000,
): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`timed out; read:\n${text.slice(-1500)}`));
    }, ms);
    const req = http.get(url, { headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (until(text)) {
          clearTimeout(timer);
          req.destroy();
          resolve({ text, ended: false });
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ text, ended: true });
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function poll<T>(fn: () => Promise<T | undefined | null | false>, ms = 20000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('log sessions across a logway restart', () => {
  const space = uniqueName('rs');
  const app = uniqueName('r');
  const key = `${app}-${space}`;
  let clock = 0;
  let node: Node | undefined;

  afterAll(async () => {
    if (node) await stopNode(node);
  });

  async function produce(core: Core, logs: string[]): Promise<string[]> {
    const out: string[] = [];
    const records = logs.map((log) => {
      const t = new Date((clock = Math.max(clock + 1, Date.now())));
      out.push(`${t.toISOString()} ${key} app[web.7-abcde]: ${log}`);
      return {
        key: app,
        value: JSON.stringify({
          log,
          stream: 'stdout',
          time: t.toISOString(),
          kubernetes: { container_name: app, pod_name: `${app}-web-7-abcde` },
          topic: space,
        }),
      };
    });
    await core.kafka.produce(space, records);
    return out;
  }

  async function createSession(n: Node, body: object): Promise<string> {
    const res = await request(n.server).post(`/apps/${key}/log-sessions`).set(authHeader).send(body);
    expect(res.status).toBe(201);
    return res.body.logplex_url;
  }

  it("a new node serves correct history and resumes an old node's SSE stream", async () => {
    node = await startNode();
    const first = await produce(node.core, ['one', 'two', 'three']);
    await poll(async () => (await node!.core.apps.find(key)) && node!.feature.hub.rings.peek(key)?.size === 3);

    const url = await createSession(node, { lines: 2, tail: true });
    const sse = await read(url, { Accept: 'text/event-stream' }, (t) => t.includes(`data: ${first[2]}\n\n`));
    const ids = sse.text.split('\n').filter((l) => l.startsWith('id: '));
    expect(sse.text.split('\n').filter((l) => l.startsWith('data: '))).toEqual(first.slice(1).map((l) => `data: ${l}`));
    const lastId = ids[ids.length - 1].slice(4);

    await stopNode(node);
    node = undefined;
    // Lines written while no logway runs.
    const core = createTestCore();
    const whileDown = await produce(core, ['four', 'five']);
    await closeCore(core);

    node = await startNode();
    const hist = await read(await createSession(node, { lines: 4, tail: false }), {});
    expect(hist.ended).toBe(true);
    expect(hist.text).toBe([...first.slice(1), ...whileDown].map((l) => `${l}\n`).join(''));

    // The old node's client comes back to the new node: only what it missed, then live lines.
    // Any node serves any session: the token is the session. Same URL path, the new node's address.
    const resumed = read(url.replace(/^http:\/\/[^/]+/, node.base), { Accept: 'text/event-stream', 'Last-Event-ID': lastId }, (t) => t.includes('six'));
    await poll(async () => node!.feature.sessions.size === 1);
    const live = await produce(node.core, ['six']);
    const r = await resumed;
    expect(r.text.split('\n').filter((l) => l.startsWith('data: '))).toEqual([...whileDown, ...live].map((l) => `data: ${l}`));
  });
});
