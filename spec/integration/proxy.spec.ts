/** Upstream pass-through against a real test upstream: what logway does not own reaches it intact, streams, and fails as 503. */
import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createLogEventsFeature } from '../../lib/events';
import { createUpstreamProxy } from '../../lib/proxy';
import { authHeader, createTestCore, testConfig, uniqueName } from '../helpers/env';
import { REFUSED_PORT } from '../helpers/ports';
import { appsRouter } from '../../routes/apps';

jest.setTimeout(30000);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let core: Core;
let upstream: http.Server;
let upstreamUrl: string;
const seen: Seen[] = [];
let releaseSecondChunk: () => void = () => undefined;

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  core = createTestCore();
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      if (req.url === '/stream') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('first\n');
        releaseSecondChunk = () => res.end('second\n');
        return;
      }
      if (req.url?.startsWith('/apps/missing')) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: 404, message: 'The specified application missing does not exist.' }));
        return;
      }
      res.writeHead(207, { 'Content-Type': 'application/json', 'X-Upstream': 'akkeris', 'Set-Cookie': 'a=b' });
      res.end(JSON.stringify({ echoed: Buffer.concat(chunks).length }));
    });
  });
  upstreamUrl = `http://127.0.0.1:${await listen(upstream)}`;
});

afterAll(async () => {
  await new Promise((r) => upstream.close(r));
  await closeCore(core);
});

const proxiedApp = () => createApp(core, [createLogEventsFeature(core)], { fallback: createUpstreamProxy(upstreamUrl, core.logger) });

describe('upstream pass-through', () => {
  it('passes method, path, query, headers and body through, and the upstream’s status, headers and body back', async () => {
    const body = JSON.stringify({ name: 'api', size: 'gp2', nested: { ü: [1, 2, 3] } });
    seen.length = 0;
    const res = await request(proxiedApp())
      .patch('/apps/api-space/formation/web?force=true&x=%20y')
      .set('Authorization', 'raw-akkeris-key')
      .set('X-Custom-Header', 'kept')
      .set('X-Request-Id', 'req-123')
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(207);
    expect(res.headers['x-upstream']).toBe('akkeris');
    // Upstream cookies are never served on logway's origin (docs/security.md).
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toEqual({ echoed: Buffer.byteLength(body) });
    expect(seen).toHaveLength(1);
    const s = seen[0];
    expect(s.method).toBe('PATCH');
    expect(s.url).toBe('/apps/api-space/formation/web?force=true&x=%20y');
    expect(s.headers.authorization).toBe('raw-akkeris-key');
    expect(s.headers['x-custom-header']).toBe('kept');
    expect(s.headers['content-type']).toBe('application/json');
    expect(s.headers['x-request-id']).toBe('req-123');
    expect(s.headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
    expect(s.body.toString('utf8')).toBe(body);
  });

  it('passes a large binary body byte for byte', async () => {
    const blob = crypto.randomBytes(1024 * 1024 + 7);
    seen.length = 0;
    await request(proxiedApp()).put('/apps/api-space/builds/upload').set('Content-Type', 'application/octet-stream').send(blob).expect(207);
    expect(crypto.createHash('sha256').update(seen[0].body).digest('hex')).toBe(crypto.createHash('sha256').update(blob).digest('hex'));
  });

  it('keeps the upstream’s error statuses and bodies as they are', async () => {
    const res = await request(proxiedApp()).get('/apps/missing-space').expect(404);
    expect(res.body).toEqual({ code: 404, message: 'The specified application missing does not exist.' });
  });

  it('does not proxy routes logway owns', async () => {
    seen.length = 0;
    await request(proxiedApp()).get('/healthz').expect(200, { state: 'UP' });
    await request(proxiedApp()).post('/log-events').set(authHeader).send({}).expect(422);
    expect(seen).toHaveLength(0);
  });

  it('streams the upstream response as it comes (the first chunk arrives before the upstream ends)', async () => {
    const server = http.createServer(proxiedApp());
    const port = await listen(server);
    try {
      const text = await new Promise<string>((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${port}/stream`, (res) => {
            let got = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              got += c;
              // Only once the first chunk is here does the upstream send the rest.
              if (got === 'first\n') releaseSecondChunk();
            });
            res.on('end', () => resolve(got));
          })
          .on('error', reject);
      });
      expect(text).toBe('first\nsecond\n');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('lets GET /apps/:app through to the controller, except the Heroku CLI asking for an app logway knows', async () => {
    const appKey = `api-${uniqueName('px')}`;
    await core.apps.register(appKey);
    const withUpstream = { ...core, config: testConfig({ UPSTREAM_URL: upstreamUrl }) };
    const app = createApp(withUpstream, [{ name: 'apps', router: appsRouter(withUpstream) }], {
      fallback: createUpstreamProxy(upstreamUrl, core.logger),
    });
    const before = seen.length;
    const aka = await request(app).get(`/apps/${appKey}`).set(authHeader);
    expect(aka.status).toBe(207);
    expect(aka.headers['x-upstream']).toBe('akkeris');
    const heroku = await request(app).get(`/apps/${appKey}`).set(authHeader).set('Accept', 'application/vnd.heroku+json; version=3.sdk');
    expect(heroku.status).toBe(200);
    expect(heroku.body).toEqual({ id: expect.any(String), name: appKey, generation: 'cedar' });
    const unknown = await request(app).get('/apps/missing-space').set(authHeader).set('Accept', 'application/vnd.heroku+json; version=3.sdk');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('The specified application missing does not exist.');
    expect(seen.slice(before).map((s) => s.url)).toEqual([`/apps/${appKey}`, '/apps/missing-space']);
  });

  it('answers 503 JSON naming the upstream when it is down', async () => {
    const downUrl = `http://127.0.0.1:${REFUSED_PORT}`;
    const app = createApp(core, [], { fallback: createUpstreamProxy(`http://user:secret@127.0.0.1:${REFUSED_PORT}`, core.logger) });
    const res = await request(app).get('/apps').set('Authorization', 'k').expect(503);
    expect(res.body.id).toBe('service_unavailable');
    expect(res.body.message).toBe('The upstream Akkeris controller is unavailable: ECONNREFUSED.');
    expect(res.body.message).not.toContain(downUrl);
    expect(res.body.message).not.toContain('secret');
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('without an upstream, unknown routes are 404', async () => {
    const res = await request(createApp(core, [])).get('/apps/api-space/config-vars').expect(404);
    expect(res.body.id).toBe('not_found');
  });
});
