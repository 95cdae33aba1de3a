/**
 * Scoped credentials (docs/design.md §3 "Operating logway itself", docs/credentials.md) on every route
 * family, against the real PostgreSQL and Kafka: a JWT naming apps, spaces or sites touches only
 * those; `"access":"read"` only reads; API keys and claim-less JWTs stay operator credentials.
 */
import express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp, createFeatures } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { authHeader, createTestCore, TEST_JWT_SECRET, uniqueName } from '../helpers/env';

jest.setTimeout(60_000);

const ownSpace = uniqueName('scs');
const sharedSpace = uniqueName('scs');
const otherSpace = uniqueName('scs');
const named = `${uniqueName('named')}-${ownSpace}`;
const inSpace = `${uniqueName('inspace')}-${sharedSpace}`;
const outside = `${uniqueName('outside')}-${otherSpace}`;
const site = `${uniqueName('site')}.example.com`;
const otherSite = `${uniqueName('site')}.example.com`;
const drainUrl = 'syslog+tls://203.0.113.7:6514';

let core: Core;
let app: express.Express;
let outsideId = '';

const token = (claims: Record<string, unknown>) => `Bearer ${jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 })}`;
const scoped = token({ apps: [named], spaces: [sharedSpace], sites: [site] });
const readOnly = token({ apps: [named], access: 'read' });

const as = (auth: string) => ({
  get: (path: string) => request(app).get(path).set('Authorization', auth),
  post: (path: string, body: object = {}) => request(app).post(path).set('Authorization', auth).send(body),
  del: (path: string, body: object = {}) => request(app).delete(path).set('Authorization', auth).send(body),
});

const event = (container: string, topic: string) => ({
  log: 'deployed',
  stream: 'stdout',
  topic,
  kubernetes: { container_name: container, pod_name: 'akkeris/event' },
});

beforeAll(async () => {
  core = createTestCore();
  const features = createFeatures(core, { drains: { worker: false }, builds: { consume: false } });
  app = createApp(core, features);
  for (const key of [named, inSpace, outside]) await core.apps.register(key);
  outsideId = (await core.apps.get(outside)).id;
  await core.kafka.createTopic(ownSpace, 1);
  await core.kafka.createTopic(otherSpace, 1);
});

afterAll(async () => {
  await closeCore(core);
});

function expectForbidden(res: request.Response): void {
  expect(res.status).toBe(403);
  expect(res.body).toEqual({ id: 'forbidden', message: expect.stringMatching(/^Forbidden: /) });
}

describe('a scoped JWT', () => {
  it('lists only the apps it names and the apps of its spaces', async () => {
    const res = await as(scoped).get('/apps?limit=1000');
    expect(res.status).toBe(200);
    const names = res.body.map((a: { name: string }) => a.name);
    expect(names).toEqual(expect.arrayContaining([named, inSpace]));
    expect(names).not.toContain(outside);
    expect(names.every((n: string) => n === named || n.endsWith(`-${sharedSpace}`))).toBe(true);
  });

  it('reads its apps, and gets 403 for any other app, known or not, by key or id', async () => {
    expect((await as(scoped).get(`/apps/${named}`)).status).toBe(200);
    expect((await as(scoped).get(`/apps/${inSpace}`)).status).toBe(200);
    expectForbidden(await as(scoped).get(`/apps/${outside}`));
    expectForbidden(await as(scoped).get(`/apps/${outsideId}`));
    expectForbidden(await as(scoped).get(`/apps/nosuchapp-${otherSpace}`));
  });

  it('opens log sessions for its apps and sites only', async () => {
    expect((await as(scoped).post(`/apps/${named}/log-sessions`, { lines: 10 })).status).toBe(201);
    expect((await as(scoped).post(`/sites/${site}/log-sessions`, { lines: 10 })).status).toBe(201);
    expectForbidden(await as(scoped).post(`/apps/${outside}/log-sessions`));
    expectForbidden(await as(scoped).post(`/sites/${otherSite}/log-sessions`));
  });

  it('manages drains of its apps and sites only', async () => {
    expect((await as(scoped).post(`/apps/${inSpace}/log-drains`, { url: drainUrl })).status).toBe(201);
    expect((await as(scoped).get(`/sites/${site}/log-drains`)).status).toBe(200);
    expectForbidden(await as(scoped).get(`/apps/${outside}/log-drains`));
    expectForbidden(await as(scoped).post(`/apps/${outside}/log-drains`, { url: drainUrl }));
    expectForbidden(await as(scoped).get(`/sites/${otherSite}/log-drains`));
  });

  it('reads and changes the DLQ of an owner it names, and must name one', async () => {
    expect((await as(scoped).get(`/drains/dlq?app=${named}`)).status).toBe(200);
    expect((await as(scoped).post('/drains/dlq/retry', { app: site })).status).toBe(202);
    expectForbidden(await as(scoped).get('/drains/dlq'));
    expectForbidden(await as(scoped).get(`/drains/dlq?app=${outside}`));
    expectForbidden(await as(scoped).del('/drains/dlq', { all: true }));
  });

  it('reads builds and metrics of its apps only', async () => {
    const build = '00000000-0000-4000-8000-000000000000';
    expect((await as(scoped).get(`/apps/${named}/builds/${build}/result`)).status).toBe(404);
    expectForbidden(await as(scoped).get(`/apps/${outside}/builds/${build}/result`));
    expect((await as(scoped).get(`/apps/${named}/metrics`)).status).not.toBe(403);
    expectForbidden(await as(scoped).get(`/apps/${outside}/metrics`));
    expectForbidden(await as(scoped).get(`/apps/${outside}/metrics/current`));
  });

  it('posts platform events for its apps only', async () => {
    const [appName] = named.split('-');
    expect((await as(scoped).post('/log-events', event(appName, ownSpace))).status).toBe(201);
    const [outsideName] = outside.split('-');
    expectForbidden(await as(scoped).post('/log-events', event(outsideName, otherSpace)));
  });
});

describe('a read-only scoped JWT', () => {
  it('reads and opens log sessions, and changes nothing', async () => {
    expect((await as(readOnly).get(`/apps/${named}`)).status).toBe(200);
    expect((await as(readOnly).post(`/apps/${named}/log-sessions`, { lines: 10 })).status).toBe(201);
    expectForbidden(await as(readOnly).post(`/apps/${named}/log-drains`, { url: drainUrl }));
    expectForbidden(await as(readOnly).post('/drains/dlq/retry', { app: named }));
    expectForbidden(await as(readOnly).del('/drains/dlq', { app: named }));
    const [appName] = named.split('-');
    expectForbidden(await as(readOnly).post('/log-events', event(appName, ownSpace)));
  });
});

describe('operator credentials', () => {
  it('an API key and a JWT without scope claims touch every app', async () => {
    expect((await request(app).get(`/apps/${outside}`).set(authHeader)).status).toBe(200);
    expect((await as(token({ sub: 'controller' })).get(`/apps/${outside}`)).status).toBe(200);
    const list = await as(token({ sub: 'controller' })).get('/apps?limit=1000');
    expect(list.body.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining([named, inSpace, outside]));
  });

  it('a JWT whose scope claims cannot be read is refused, not taken for an operator', async () => {
    for (const claims of [{ apps: named }, { spaces: [1] }, { access: 'admin' }, { apps: [''] }]) {
      expect((await as(token(claims)).get(`/apps/${named}`)).status).toBe(401);
    }
  });
});
