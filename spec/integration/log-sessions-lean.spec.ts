/**
 * The logplex_url stream served ahead of Express (lib/tail/stream-route, issue 10 item 6) against
 * the real Kafka and PostgreSQL: the same stream, errors, headers and metrics as the Express route,
 * without the request ever reaching Express; other requests (and unusual forms of the stream URL)
 * still do.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, SESSION_NOT_FOUND, TailFeature } from '../../lib/tail/feature';
import { withStreamRoute } from '../../lib/tail/stream-route';
import { createTestCore, uniqueName, authHeader } from '../helpers/env';
import { appMessage } from '../helpers/app-message';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ended: boolean;
  close(): void;
}

/** Reads a response as it comes (supertest buffers whole bodies). */
function get(url: string, headers: Record<string, string> = {}): Got {
  const got: Got = { status: 0, headers: {}, text: '', ended: false, close: () => req.destroy() };
  const req = http.get(url, { headers }, (res) => {
    got.status = res.statusCode ?? 0;
    got.headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (d: string) => (got.text += d));
    res.on('end', () => (got.ended = true));
  });
  req.on('error', () => (got.ended = true));
  return got;
}

describe('log-session stream outside Express (real Kafka)', () => {
  let core: Core;
  let feature: TailFeature;
  let server: http.Server;
  let base: string;
  /** Paths that reached Express. */
  const viaExpress: string[] = [];
  const space = uniqueName('lean');
  const [a1, a2] = [uniqueName('a'), uniqueName('b')];
  const [k1, k2] = [a1, a2].map((a) => `${a}-${space}`);
  const opened: Got[] = [];

  async function session(key: string, body: object): Promise<string> {
    const res = await request(server).post(`/apps/${key}/log-sessions`).set(authHeader).send(body);
    expect(res.status).toBe(201);
    return res.body.logplex_url as string;
  }

  function open(url: string, headers: Record<string, string> = {}): Got {
    const g = get(url, headers);
    opened.push(g);
    return g;
  }

  async function httpCount(status: string): Promise<number> {
    const m = await core.prom.httpRequests.get();
    return m.values.find((v) => v.labels.route === '/log-sessions/:token' && v.labels.status === status && v.labels.method === 'GET')?.value ?? 0;
  }

  beforeAll(async () => {
    core = createTestCore({ MAX_STREAMS_PER_APP: '1' });
    server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    (core.config as { publicUrl: string }).publicUrl = base;
    feature = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250 });
    const app = createApp(core, [feature]);
    server.on(
      'request',
      withStreamRoute(core, feature, (req, res) => {
        viaExpress.push(req.url ?? '');
        app(req, res);
      }),
    );
    await feature.start();
    for (const a of [a1, a2]) await core.kafka.produce(space, [{ key: a, value: appMessage(a, space, `history of ${a}`) }]);
    await waitFor('the hub to read the new topic', async () => feature.hub.topics.includes(space));
    for (const k of [k1, k2]) await waitFor(`${k} registered from the stream`, () => core.apps.find(k));
  });

  afterAll(async () => {
    opened.forEach((g) => g.close());
    await feature.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await closeCore(core);
  });

  it('streams SSE history then live lines with the request id and the route’s metrics, never through Express', async () => {
    const before = await httpCount('200');
    const url = await session(k1, { lines: 1, tail: true });
    const s = open(url, { Accept: 'text/event-stream', 'X-Request-Id': 'lean-test-1' });
    await waitFor('the history line', async () => s.text.includes(`history of ${a1}`));
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['x-request-id']).toBe('lean-test-1');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    await core.kafka.produce(space, [{ key: a1, value: appMessage(a1, space, 'live line') }]);
    await waitFor('the live line', async () => s.text.includes('live line'));
    expect(s.text).toMatch(/^retry: \d+\n/);
    expect(s.text.match(/^id: .+~.+$/gm)).toHaveLength(2);
    expect(s.text).toMatch(new RegExp(`^data: \\S+Z ${k1} app\\[web\\.1562910588-cg82f\\]: live line$`, 'm'));
    s.close();
    await waitFor('the access metric of the closed stream', async () => (await httpCount('200')) === before + 1);
    expect(viaExpress.filter((p) => p.startsWith('/log-sessions/'))).toEqual([]);
  });

  it('serves text and ?format=json (NDJSON) streams that end after their history', async () => {
    const url = await session(k2, { lines: 5, tail: false });
    const text = open(url);
    await waitFor('the text stream to end', async () => text.ended);
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.text).toMatch(new RegExp(`^\\S+Z ${k2} app\\[web\\.1562910588-cg82f\\]: history of ${a2}\\n$`));
    const json = open(`${url}?format=json`);
    await waitFor('the NDJSON stream to end', async () => json.ended);
    expect(json.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(JSON.parse(json.text.trim())).toMatchObject({ app: a2, space, message: `history of ${a2}`, dyno: 'web.1562910588-cg82f' });
    expect(viaExpress.filter((p) => p.startsWith('/log-sessions/'))).toEqual([]);
  });

  it('answers a forged token 404 and a stream over the per-app limit 429 with Retry-After, as the Express route does', async () => {
    const forged = `${new URL(await session(k2, { lines: 1 })).pathname}x`;
    const lean = await request(server).get(forged);
    // A trailing slash is left to Express, which serves the same route.
    const viaRouter = await request(server).get(`${forged}/`);
    expect(viaExpress).toContain(`${forged}/`);
    expect(viaExpress).not.toContain(forged);
    for (const res of [lean, viaRouter]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ id: 'not_found', message: SESSION_NOT_FOUND });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }

    const url = await session(k1, { lines: 1, tail: true });
    const first = open(url);
    await waitFor('the first stream', async () => first.status === 200);
    const path = new URL(url).pathname;
    const refused = [await request(server).get(path), await request(server).get(`${path}/`)];
    for (const res of refused) {
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({ id: 'rate_limited', message: 'Too many log streams are open for this application (1); close one or retry later.' });
    }
    expect(viaExpress.filter((p) => p === path)).toEqual([]);
  });

  it('leaves every other request to Express', async () => {
    const res = await request(server).get(`/apps/${k1}`).set(authHeader);
    expect(res.status).toBe(200);
    expect(viaExpress).toContain(`/apps/${k1}`);
  });
});
