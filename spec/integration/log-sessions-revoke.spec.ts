/**
 * Sessions that can be taken back (issue 24 item 4), against the real Kafka and PostgreSQL with two
 * nodes in this process, each with its own Core: `DELETE /log-sessions/:id` on one node ends the
 * session's stream on the other and its URL answers 404 everywhere; a rotated SESSION_SECRET keeps
 * a live stream resumable; resumes end by the token's deadline; one session's streams are capped.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature, TailFeatureOptions } from '../../lib/tail/feature';
import { createTestCore, uniqueName, authHeader, TEST_JWT_SECRET } from '../helpers/env';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

interface Node {
  core: Core;
  feature: TailFeature;
  server: http.Server;
  base: string;
}

const nodes = new Set<Node>();

async function startNode(env: Record<string, string> = {}, opts: TailFeatureOptions = {}): Promise<Node> {
  const core = createTestCore(env);
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (core.config as { publicUrl: string }).publicUrl = base;
  const feature = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250, ...opts });
  server.on('request', createApp(core, [feature]));
  await feature.start();
  const node = { core, feature, server, base };
  nodes.add(node);
  return node;
}

async function stopNode(n: Node): Promise<void> {
  nodes.delete(n);
  await n.feature.stop();
  n.server.closeAllConnections();
  await new Promise<void>((r) => n.server.close(() => r()));
  await closeCore(n.core);
}

/** Reads a streaming response as it comes (supertest buffers whole bodies). */
class Stream {
  text = '';
  status = 0;
  ended = false;
  private req: http.ClientRequest;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.req = http.get(url, { headers }, (res) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => (this.text += d));
      res.on('end', () => (this.ended = true));
    });
    this.req.on('error', () => (this.ended = true));
  }

  /** SSE `id:` values. */
  ids(): string[] {
    return this.text
      .split('\n')
      .filter((l) => l.startsWith('id: '))
      .map((l) => l.slice(4));
  }

  close(): void {
    this.req.destroy();
  }
}

const streams: Stream[] = [];
function open(url: string, headers: Record<string, string> = {}): Stream {
  const s = new Stream(url, headers);
  streams.push(s);
  return s;
}

const scoped = (claims: Record<string, unknown>) => `Bearer ${jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 })}`;
const NOT_FOUND = { id: 'not_found', message: 'The specified log session was not found or has expired.' };
const OLD_SECRET = 'old-session-secret-0123456789';
const NEW_SECRET = 'new-session-secret-0123456789';

describe('revocable log sessions', () => {
  const space = uniqueName('rv');
  const app = uniqueName('r');
  const key = `${app}-${space}`;
  let a: Node;
  let b: Node;

  async function produce(core: Core, logs: string[]): Promise<void> {
    await core.kafka.produce(
      space,
      logs.map((log) => ({
        key: app,
        value: JSON.stringify({
          log,
          stream: 'stdout',
          time: new Date().toISOString(),
          kubernetes: { container_name: app, pod_name: `${app}-web-7-abcde` },
          topic: space,
        }),
      })),
    );
  }

  async function createSession(n: Node, body: object = { lines: 1, tail: true }): Promise<{ id: string; url: string }> {
    const res = await request(n.server).post(`/apps/${key}/log-sessions`).set(authHeader).send(body);
    expect(res.status).toBe(201);
    return { id: res.body.id, url: res.body.logplex_url };
  }

  const onNode = (url: string, n: Node) => url.replace(/^http:\/\/[^/]+/, n.base);
  const streamsOf = (n: Node) => [...n.feature.sessions];

  beforeAll(async () => {
    a = await startNode();
    b = await startNode();
    await produce(a.core, ['hello']);
    await waitFor('the app registered from its first line', () => a.core.apps.find(key));
    await waitFor('both hubs to have the line', async () => [a, b].every((n) => n.feature.hub.rings.peek(key)?.size === 1));
  });

  afterAll(async () => {
    streams.forEach((s) => s.close());
    for (const n of [...nodes]) await stopNode(n);
  });

  it('DELETE on one node ends the stream open on another with the closing line; the URL is 404 on both after', async () => {
    const { id, url } = await createSession(a);
    const stream = open(onNode(url, b));
    await waitFor('the history line on node B', async () => stream.text.includes('app[web.7-abcde]: hello\n'));

    const res = await request(a.server).delete(`/log-sessions/${id}`).set(authHeader);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, revoked_at: expect.any(String) });

    await waitFor('the stream on node B to end', async () => stream.ended);
    expect(stream.text).toMatch(/^\S+Z \S+ logway\[gateway\]: Stream closed: this log session was revoked\.\n$/m);
    expect(streamsOf(b)).toHaveLength(0);
    for (const n of [a, b]) {
      const again = await request(n.server).get(new URL(url).pathname);
      expect([again.status, again.body]).toEqual([404, NOT_FOUND]);
    }
    // Idempotent: the first revocation's time again.
    const twice = await request(b.server).delete(`/log-sessions/${id}`).set(authHeader);
    expect([twice.status, twice.body]).toEqual([200, res.body]);
  });

  it('a revocation whose notification was missed still ends the stream (the table is re-read)', async () => {
    const { id, url } = await createSession(a);
    const stream = open(onNode(url, b));
    await waitFor('the history line', async () => stream.text.includes('hello'));
    // What DELETE stores, without its NOTIFY.
    const nonce = id.split('.')[2];
    await a.core.db.query(`INSERT INTO log_session_revocations (nonce, expires_at) VALUES ($1, now() + interval '2 hours')`, [nonce]);
    await waitFor('the stream to end', async () => stream.ended);
    expect(stream.text).toContain('Stream closed: this log session was revoked.');
  });

  it('who may revoke: operators, and scoped credentials (read-only too) for their own apps; forged ids are 404', async () => {
    const { id, url } = await createSession(a, { lines: 1, tail: false });
    const del = (who: Record<string, string>, sessionId = id) => request(a.server).delete(`/log-sessions/${sessionId}`).set(who);

    expect((await del({})).status).toBe(401);
    const other = await del({ Authorization: scoped({ apps: [`other-${space}`] }) });
    expect([other.status, other.body]).toEqual([403, { id: 'forbidden', message: `Forbidden: this credential may not touch the application ${key}.` }]);
    expect((await del({ Authorization: scoped({ sites: ['www.example.com'] }) })).status).toBe(403);
    const [kind, target, nonce, mac] = id.split('.');
    const forgedTarget = `${kind}.${Buffer.from(`victim-${space}`).toString('base64url')}.${nonce}.${mac}`;
    for (const bad of [forgedTarget, `${kind}.${target}.${nonce}.${'A'.repeat(22)}`, 'e3b0c442-98fc-1c14-9afb-f4c8996fb924', 'nope']) {
      const r = await del(authHeader, bad);
      expect([bad, r.status, r.body]).toEqual([bad, 404, { id: 'not_found', message: 'The specified log session was not found.' }]);
    }
    expect((await request(a.server).get(new URL(url).pathname)).status).toBe(200);

    const readOnly = await del({ Authorization: scoped({ spaces: [space], access: 'read' }) });
    expect(readOnly.status).toBe(200);
    expect((await request(a.server).get(new URL(url).pathname)).status).toBe(404);
  });

  it('site sessions are revoked the same way, by a credential that names the site', async () => {
    const site = `${uniqueName('www')}.example.com`;
    const res = await request(a.server).post(`/sites/${site}/log-sessions`).set(authHeader).send({ lines: 1, tail: true });
    expect(res.status).toBe(201);
    expect(
      (
        await request(a.server)
          .delete(`/log-sessions/${res.body.id}`)
          .set({ Authorization: scoped({ apps: [key] }) })
      ).status,
    ).toBe(403);
    expect(
      (
        await request(a.server)
          .delete(`/log-sessions/${res.body.id}`)
          .set({ Authorization: scoped({ sites: [site] }) })
      ).status,
    ).toBe(200);
    expect((await request(b.server).get(new URL(res.body.logplex_url).pathname)).status).toBe(404);
  });

  it('one session opens at most MAX_STREAMS_PER_SESSION streams per node; other sessions of the app still open', async () => {
    const n = await startNode({ MAX_STREAMS_PER_SESSION: '2' });
    try {
      const { url } = await createSession(n);
      const first = [open(onNode(url, n)), open(onNode(url, n))];
      await waitFor('two streams', async () => first.every((s) => s.status === 200));
      const refused = await request(n.server).get(new URL(url).pathname);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toEqual({ id: 'rate_limited', message: 'Too many streams are open for this log session (2); close one or retry later.' });
      // The app's owner is not locked out by a leaked URL opened over and over.
      const own = open(onNode((await createSession(n)).url, n));
      await waitFor('another session of the app', async () => own.status === 200);
      first[0].close();
      await waitFor('the closed stream to free its slot', async () => streamsOf(n).length === 2);
      const third = open(onNode(url, n));
      await waitFor('the session to open again', async () => third.status === 200);
    } finally {
      await stopNode(n);
    }
  });

  it('a rotated SESSION_SECRET cuts nothing: a stream signed with the old secret resumes on a node restarted with "new,old"', async () => {
    let n = await startNode({ SESSION_SECRET: OLD_SECRET });
    const { id, url } = await createSession(n);
    const before = open(onNode(url, n), { Accept: 'text/event-stream' });
    await waitFor('the history event', async () => before.ids().length === 1);
    await stopNode(n);
    await waitFor('the old node to end the stream', async () => before.ended);

    n = await startNode({ SESSION_SECRET: `${NEW_SECRET},${OLD_SECRET}` });
    try {
      const resumed = open(onNode(url, n), { Accept: 'text/event-stream', 'Last-Event-ID': before.ids()[0] });
      await waitFor('the resumed stream', async () => resumed.status === 200 && streamsOf(n).length === 1);
      await produce(n.core, ['after the rotation']);
      await waitFor('a live line on the resumed stream', async () => resumed.text.includes('app[web.7-abcde]: after the rotation\n'));
      // A fresh open of the old URL works too, and its id can still be revoked.
      const reopened = open(onNode(url, n));
      await waitFor('the reopened stream', async () => reopened.status === 200);
      expect((await request(n.server).delete(`/log-sessions/${id}`).set(authHeader)).status).toBe(200);
      await waitFor('both streams to end', async () => resumed.ended && reopened.ended);

      // New sessions are signed with the first secret: a node that only knows the old one refuses them.
      const fresh = await createSession(n);
      const token = new URL(fresh.url).pathname.split('/').pop()!;
      expect(() => jwt.verify(token, NEW_SECRET, { algorithms: ['HS256'] })).not.toThrow();
      const oldOnly = await startNode({ SESSION_SECRET: OLD_SECRET });
      try {
        expect((await request(oldOnly.server).get(new URL(fresh.url).pathname)).status).toBe(404);
        expect((await request(oldOnly.server).delete(`/log-sessions/${fresh.id}`).set(authHeader)).status).toBe(404);
      } finally {
        await stopNode(oldOnly);
      }
    } finally {
      await stopNode(n);
    }
  });

  it('resumes never outlive the token: every stream of a session ends by its open window plus MAX_STREAM_SECONDS', async () => {
    const maxStreamMs = 2000;
    const n = await startNode({}, { maxStreamSeconds: maxStreamMs / 1000, openWindowSeconds: 2 });
    try {
      const { url } = await createSession(n);
      const { exp } = jwt.decode(new URL(url).pathname.split('/').pop()!) as { exp: number };
      const sessionDeadline = exp * 1000 + maxStreamMs;
      // A client that resumes over and over (a leaked URL's reader), until it is refused.
      let lastId: string | undefined;
      const opened: { afterWindow: boolean; deadline: number }[] = [];
      for (let i = 0; i < 500; i++) {
        const afterWindow = Date.now() >= exp * 1000;
        const s = open(onNode(url, n), lastId ? { Accept: 'text/event-stream', 'Last-Event-ID': lastId } : { Accept: 'text/event-stream' });
        await waitFor('the stream to be answered', async () => s.status !== 0 || s.ended);
        if (s.status === 404) break;
        expect(s.status).toBe(200);
        const served = streamsOf(n)[0];
        if (served) opened.push({ afterWindow, deadline: served.deadline });
        await waitFor('an SSE id to resume from', async () => lastId ?? s.ids()[0] ?? (s.ended && 'ended'));
        lastId ??= s.ids()[0];
        s.close();
        await waitFor('the stream to close on the node', async () => streamsOf(n).length === 0);
      }
      // Streams opened within the window get a full duration; resumes after it only what is left of the first's.
      expect(opened.filter((o) => !o.afterWindow).length).toBeGreaterThan(0);
      expect(opened.filter((o) => o.afterWindow).length).toBeGreaterThan(0);
      for (const o of opened) expect(o.deadline).toBeLessThanOrEqual(sessionDeadline);
      for (const o of opened.filter((x) => x.afterWindow)) expect(o.deadline).toBe(sessionDeadline);
    } finally {
      await stopNode(n);
    }
  });
});
