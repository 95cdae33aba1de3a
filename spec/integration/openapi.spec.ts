/**
 * The published contract (GET /openapi.json, assembled in routes/openapi.ts) is a valid OpenAPI 3.1 document, names
 * every route the app serves (and no other), and real responses of the real stack conform to it:
 * each call's status is documented for its operation and its body validates against the schema.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createApp, createFeatures } from '../../bin/wiring';
import { consoleAssetNames } from '../../lib/console';
import { closeCore, Core, Feature } from '../../lib/core';
import { openApiDocument, OpenApiDocument } from '../../routes/openapi';
import type { BuildsFeature } from '../../lib/builds/feature';
import { waitFor } from '../helpers/wait';
import { authHeader, createTestCore, REPO_ROOT, uniqueName } from '../helpers/env';

const core: Core = createTestCore();
const features: Feature[] = createFeatures(core, { builds: { consume: false }, drains: { worker: false } });
let app: express.Express;
const doc: OpenApiDocument = openApiDocument(core.config, { consoleFiles: consoleAssetNames() });

const space = uniqueName('oasp');
const appName = uniqueName('oaapp');
const appKey = `${appName}-${space}`;
const site = `${uniqueName('oasite')}.example.com`;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc as unknown as object, 'openapi.json');

const pointer = (...segments: string[]) => segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

type Method = 'get' | 'post' | 'delete';

/** Fails unless the response's status is documented for the operation and its body validates against that response's schema. */
function conforms(method: Method, template: string, res: request.Response): void {
  const op = doc.paths[template]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${template} is not in the document`);
  const documented = op.responses[String(res.status)];
  if (!documented) {
    throw new Error(
      `${method.toUpperCase()} ${template} answered ${res.status}, not documented (${Object.keys(op.responses).join(', ')}): ${res.text?.slice(0, 300)}`,
    );
  }
  if (!documented.content) return;
  const mediaType = String(res.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  if (!documented.content[mediaType]) {
    throw new Error(`${method.toUpperCase()} ${template} ${res.status} answered ${mediaType}, documented: ${Object.keys(documented.content).join(', ')}`);
  }
  const validate = ajv.getSchema(`openapi.json#/${pointer('paths', template, method, 'responses', String(res.status), 'content', mediaType, 'schema')}`);
  if (!validate) throw new Error('schema not found');
  const bodies: unknown[] =
    mediaType === 'application/json'
      ? [JSON.parse(res.text)]
      : mediaType === 'application/x-ndjson'
        ? res.text
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as unknown)
        : [res.text];
  for (const body of bodies) {
    if (!validate(body)) {
      throw new Error(
        `${method.toUpperCase()} ${template} ${res.status} body does not conform: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
      );
    }
  }
}

const appLog = (log: string) => ({
  key: appKey,
  value: JSON.stringify({
    log: `${log}\n`,
    stream: 'stdout',
    time: new Date().toISOString(),
    docker: { container_id: 'c' },
    kubernetes: {
      namespace_name: space,
      pod_id: 'p',
      pod_name: `${appName}-web-1562910588-cg82f`,
      container_name: appName,
      labels: { name: appName },
      host: 'h',
    },
    topic: space,
    tag: '',
  }),
});

/** A live (tail) session's stream path on this server. */
async function sessionPath(server: http.Server): Promise<string> {
  const res = await request(server).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 1, tail: true });
  expect(res.status).toBe(201);
  return new URL(res.body.logplex_url as string).pathname;
}

beforeAll(async () => {
  // The space exists before the hub starts, so it reads the line's history like any other.
  await core.kafka.createTopic(space, 1);
  await core.kafka.produce(space, [appLog('GET /health 200')]);
  await core.apps.register(appKey);
  for (const f of features) await f.start?.();
  app = createApp(core, features);
});

afterAll(async () => {
  for (const f of [...features].reverse()) await f.stop?.();
  await closeCore(core);
});

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'logway-oas-')), 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const cli = path.join(REPO_ROOT, 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
    let out: string;
    try {
      out = execFileSync(process.execPath, [cli, file], { encoding: 'utf8' });
    } catch (e) {
      throw new Error(`not a valid OpenAPI 3.1 document: ${(e as { stdout?: string }).stdout}`);
    }
    expect(JSON.parse(out)).toEqual({ valid: true });
  });

  it('compiles every schema it holds, so every $ref resolves', () => {
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const method of ['get', 'post', 'delete'] as const) {
        for (const [status, r] of Object.entries(item[method]?.responses ?? {})) {
          for (const media of Object.keys(r.content ?? {})) {
            expect(ajv.getSchema(`openapi.json#/${pointer('paths', p, method, 'responses', status, 'content', media, 'schema')}`)).toBeDefined();
          }
        }
      }
    }
  });

  it('is served at GET /openapi.json without credentials, as JSON', async () => {
    const res = await request(app).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    conforms('get', '/openapi.json', res);
  });

  it('states the limits of the node it describes', () => {
    const other = openApiDocument({ ...core.config, maxSessionLines: 1500 });
    expect(JSON.stringify(other.components.schemas.LogSessionRequest)).toContain('"maximum":1500');
  });

  it('names every route the app serves, with its methods, and no route it does not serve', () => {
    const served = new Set<string>();
    const walk = (stack: unknown[]) => {
      for (const layer of stack as { route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }[]) {
        if (layer.route) {
          const p = String(layer.route.path).replace(/:(\w+)/g, '{$1}');
          for (const m of Object.keys(layer.route.methods)) served.add(`${m} ${p}`);
        } else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk((app as unknown as { router: { stack: unknown[] } }).router.stack);
    const documented = new Set<string>();
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of ['get', 'post', 'delete'] as const) if (item[m]) documented.add(`${m} ${p}`);
    }
    expect([...served].sort()).toEqual([...documented].sort());
  });
});

describe('real responses conform', () => {
  const auth = authHeader;

  it('operations: health, readiness, Prometheus text and JSON', async () => {
    conforms('get', '/healthz', await request(app).get('/healthz'));
    conforms('get', '/health/live', await request(app).get('/health/live'));
    conforms('get', '/health/ready', await request(app).get('/health/ready'));
    conforms('get', '/metrics', await request(app).get('/metrics'));
    conforms('get', '/metrics', await request(app).get('/metrics').set('Accept', 'application/json'));
  });

  it('GET /apps/{app}: 200, 404, 401', async () => {
    const okRes = await request(app).get(`/apps/${appKey}`).set(auth);
    expect(okRes.status).toBe(200);
    conforms('get', '/apps/{app}', okRes);
    const missing = await request(app).get(`/apps/nope-${space}`).set(auth);
    expect(missing.status).toBe(404);
    conforms('get', '/apps/{app}', missing);
    const unauth = await request(app).get(`/apps/${appKey}`);
    expect(unauth.status).toBe(401);
    conforms('get', '/apps/{app}', unauth);
  });

  it('log sessions: create (app and site), 422, 404, 400, and the stream in text, SSE and NDJSON', async () => {
    const t = '/apps/{app}/log-sessions';
    const created = await request(app).post(`/apps/${appKey}/log-sessions`).set(auth).send({ lines: 5, tail: false });
    expect(created.status).toBe(201);
    conforms('post', t, created);
    for (const body of [{ lines: 0 }, { lines: 100000 }, { lines: 5, filter: '(oops' }, { lines: 5, since: 'yesterday' }, {}]) {
      const res = await request(app).post(`/apps/${appKey}/log-sessions`).set(auth).send(body);
      expect(res.status).toBe(422);
      conforms('post', t, res);
    }
    conforms('post', t, await request(app).post(`/apps/nope-${space}/log-sessions`).set(auth).send({ lines: 5 }));
    const badJson = await request(app).post(`/apps/${appKey}/log-sessions`).set(auth).set('Content-Type', 'application/json').send('{"lines":');
    expect(badJson.status).toBe(400);
    conforms('post', t, badJson);

    const siteRes = await request(app).post(`/sites/${site}/log-sessions`).set(auth).send({ lines: 5 });
    expect(siteRes.status).toBe(201);
    conforms('post', '/sites/{site}/log-sessions', siteRes);
    const badSite = await request(app).post('/sites/not_a_host!/log-sessions').set(auth).send({ lines: 5 });
    expect(badSite.status).toBe(404);
    conforms('post', '/sites/{site}/log-sessions', badSite);

    const streamPath = new URL(created.body.logplex_url as string).pathname;
    const s = '/log-sessions/{token}';
    // History only (tail false): each answer ends after the app's line.
    const text = await waitFor('the line in the history', async () => {
      const res = await request(app).get(streamPath);
      return res.text.includes('GET /health 200') && res;
    });
    expect(text.status).toBe(200);
    conforms('get', s, text);
    const ndjson = await request(app).get(`${streamPath}?format=json`);
    expect(ndjson.text).toContain('GET /health 200');
    conforms('get', s, ndjson);
    const sse = await request(app).get(streamPath).set('Accept', 'text/event-stream');
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    conforms('get', s, sse);
    const forged = await request(app).get('/log-sessions/not-a-token');
    expect(forged.status).toBe(404);
    conforms('get', s, forged);
  });

  it('log drains (app and site): create, duplicate, bad url, missing url, list, get, delete, unknown', async () => {
    for (const [base, t] of [
      [`/apps/${appKey}/log-drains`, '/apps/{app}/log-drains'],
      [`/sites/${site}/log-drains`, '/sites/{site}/log-drains'],
    ]) {
      // Loopback is allowed in the test environment (DRAIN_ALLOW_CIDRS); nothing is delivered (no worker here).
      const url = `syslog+tls://127.0.0.1:${10000 + crypto.randomInt(50000)}`;
      const created = await request(app).post(base).set(auth).send({ url });
      expect(created.status).toBe(201);
      conforms('post', t, created);
      const dup = await request(app)
        .post(base)
        .set(auth)
        .send({ url: ` ${url.toUpperCase()}` });
      expect(dup.status).toBe(400);
      conforms('post', t, dup);
      const ftp = await request(app).post(base).set(auth).send({ url: 'ftp://logs.example.com' });
      expect(ftp.status).toBe(422);
      conforms('post', t, ftp);
      const none = await request(app).post(base).set(auth).send({});
      expect(none.status).toBe(400);
      conforms('post', t, none);
      const list = await request(app).get(base).set(auth);
      expect(list.status).toBe(200);
      conforms('get', t, list);
      const one = await request(app).get(`${base}/${created.body.id}`).set(auth);
      expect(one.status).toBe(200);
      conforms('get', `${t}/{id}`, one);
      const unknown = await request(app).get(`${base}/${crypto.randomUUID()}`).set(auth);
      expect(unknown.status).toBe(404);
      conforms('get', `${t}/{id}`, unknown);
      const deleted = await request(app).delete(`${base}/${created.body.id}`).set(auth);
      expect(deleted.status).toBe(200);
      conforms('delete', `${t}/{id}`, deleted);
      conforms('delete', `${t}/{id}`, await request(app).delete(`${base}/${created.body.id}`).set(auth));
    }
    const noApp = await request(app).get(`/apps/nope-${space}/log-drains`).set(auth);
    expect(noApp.status).toBe(404);
    conforms('get', '/apps/{app}/log-drains', noApp);
  });

  it('dead-letter queue: list, count, 422, retry, discard, nothing selected', async () => {
    const drain = crypto.randomUUID();
    const list = await request(app).get(`/drains/dlq?drain=${drain}&limit=10`).set(auth);
    expect(list.status).toBe(200);
    conforms('get', '/drains/dlq', list);
    for (const q of ['limit=abc', 'limit=1001', 'drain=nope', 'id=-1']) {
      const res = await request(app).get(`/drains/dlq?${q}`).set(auth);
      expect(res.status).toBe(422);
      conforms('get', '/drains/dlq', res);
    }
    const retried = await request(app).post('/drains/dlq/retry').set(auth).send({ drain });
    expect(retried.status).toBe(202);
    conforms('post', '/drains/dlq/retry', retried);
    const nothing = await request(app).post('/drains/dlq/retry').set(auth).send({});
    expect(nothing.status).toBe(400);
    conforms('post', '/drains/dlq/retry', nothing);
    const discarded = await request(app).delete(`/drains/dlq?drain=${drain}`).set(auth);
    expect(discarded.status).toBe(200);
    conforms('delete', '/drains/dlq', discarded);
    conforms('delete', '/drains/dlq', await request(app).delete('/drains/dlq').set(auth));
  });

  it('builds: a result, invalid uuid, unknown build, unknown app', async () => {
    const t = '/apps/{app}/builds/{id}/result';
    const builds = features.find((f) => f.name === 'builds') as BuildsFeature;
    const id = crypto.randomUUID();
    await builds.store.registerBuild(appKey, id, '1');
    const result = await request(app).get(`/apps/${appKey}/builds/${id}/result`).set(auth);
    expect(result.status).toBe(200);
    conforms('get', t, result);
    const bad = await request(app).get(`/apps/${appKey}/builds/nope/result`).set(auth);
    expect(bad.status).toBe(422);
    conforms('get', t, bad);
    const unknown = await request(app).get(`/apps/${appKey}/builds/${crypto.randomUUID()}/result`).set(auth);
    expect(unknown.status).toBe(404);
    conforms('get', t, unknown);
    conforms('get', t, await request(app).get(`/apps/nope-${space}/builds/${id}/result`).set(auth));
  });

  it('log events: 201 into an existing space, 400, 422', async () => {
    const event = {
      log: 'Release v1 created',
      kubernetes: { container_name: appName, pod_name: 'akkeris/event' },
      topic: space,
    };
    const created = await request(app).post('/log-events').set(auth).send(event);
    expect(created.status).toBe(201);
    conforms('post', '/log-events', created);
    const notObject = await request(app).post('/log-events').set(auth).send([1]);
    expect(notObject.status).toBe(400);
    conforms('post', '/log-events', notObject);
    const invalid = await request(app)
      .post('/log-events')
      .set(auth)
      .send({ ...event, stream: 'stdin' });
    expect(invalid.status).toBe(422);
    conforms('post', '/log-events', invalid);
  });

  it('metrics: series, snapshot, 422, 404', async () => {
    const series = await request(app).get(`/apps/${appKey}/metrics?resolution=1h`).set(auth);
    expect(series.status).toBe(200);
    conforms('get', '/apps/{app}/metrics', series);
    const bad = await request(app).get(`/apps/${appKey}/metrics?resolution=5s`).set(auth);
    expect(bad.status).toBe(422);
    conforms('get', '/apps/{app}/metrics', bad);
    conforms('get', '/apps/{app}/metrics', await request(app).get(`/apps/nope-${space}/metrics`).set(auth));
    const snapshot = await request(app).get(`/apps/${appKey}/metrics/current`).set(auth);
    expect(snapshot.status).toBe(200);
    conforms('get', '/apps/{app}/metrics/current', snapshot);
  });

  it('the stream limit: 429 with Retry-After, as documented', async () => {
    const limited = createTestCore({ MAX_STREAMS_PER_APP: '1' });
    const tail = createFeatures(limited, { builds: { consume: false }, drains: { worker: false } }).filter((f) => f.name === 'tail');
    for (const f of tail) await f.start?.();
    const server = http.createServer(createApp(limited, tail));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const first = http.get(`${base}${await sessionPath(server)}`);
    try {
      await new Promise<void>((resolve, reject) => first.once('response', () => resolve()).once('error', reject));
      const res = await request(server).get(await sessionPath(server));
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      conforms('get', '/log-sessions/{token}', res);
    } finally {
      first.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      for (const f of tail) await f.stop?.();
      await closeCore(limited);
    }
  });

  it('a body that breaks the contract is caught (the check can fail)', () => {
    const fake = { status: 200, headers: { 'content-type': 'application/json' }, text: JSON.stringify({ id: 'x' }) } as unknown as request.Response;
    expect(() => conforms('get', '/apps/{app}', fake)).toThrow(/does not conform/);
    const undocumented = { ...fake, status: 418 } as unknown as request.Response;
    expect(() => conforms('get', '/apps/{app}', undocumented)).toThrow(/not documented/);
  });
});
