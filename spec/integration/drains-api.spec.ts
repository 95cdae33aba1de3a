/** Drain API and DLQ API validation against the real PostgreSQL (no worker: the API alone). */
import express from 'express';
import request from 'supertest';
import { createApp } from '../../lib/app';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';

jest.setTimeout(60_000);

let core: Core;
let feature: DrainsFeature;
let app: express.Express;
const space = uniqueName('dsp');
const appKey = `${uniqueName('dapi')}-${space}`;
const site = `${uniqueName('site')}.example.com`;

beforeAll(async () => {
  core = createTestCore();
  feature = createDrainsFeature(core, { worker: false });
  app = createApp(core, [feature]);
  await core.apps.register(appKey);
});

afterAll(async () => {
  await feature.stop?.();
  await closeCore(core);
});

const post = (path: string, body: unknown) => request(app).post(path).set(authHeader).send(body as object);

describe('app drains', () => {
  let id = '';
  const url = 'syslog+tls://logs.example.com:6514';

  it('needs auth', async () => {
    const res = await request(app).get(`/apps/${appKey}/log-drains`);
    expect(res.status).toBe(401);
  });

  it('creates a drain (201, Akkeris object)', async () => {
    const res = await post(`/apps/${appKey}/log-drains`, { url });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      addon: { id: '', name: '' },
      created_at: expect.any(String),
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      token: appKey,
      updated_at: expect.any(String),
      url,
    });
    id = res.body.id;
  });

  it('refuses a missing url with 400', async () => {
    for (const body of [{}, { url: '' }]) {
      const res = await post(`/apps/${appKey}/log-drains`, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ id: 'bad_request', message: 'The request did not include a "url" parameter.' });
    }
  });

  it('refuses a duplicate (trimmed, case-insensitive) with 400', async () => {
    const res = await post(`/apps/${appKey}/log-drains`, { url: `  ${url.toUpperCase()} ` });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('The requested log drain already exists on this application.');
  });

  it('refuses a bad scheme, a bad port, a missing port with 422', async () => {
    const cases: [string, string][] = [
      ['ftp://logs.example.com:21', 'The url scheme ftp:// is not supported; use one of syslog://, syslog+tcp://, syslog+tls://, syslog+udp://, http://, https://.'],
      ['syslog://logs.example.com:99999', 'The specified url port 99999 is not valid (1-65535).'],
      ['syslog+udp://logs.example.com:0', 'The specified url port 0 is not valid (1-65535).'],
      ['syslog://logs.example.com', 'The specified url has no port; syslog drains need host:port.'],
    ];
    for (const [u, message] of cases) {
      const res = await post(`/apps/${appKey}/log-drains`, { url: u });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ id: 'unprocessable_entity', message });
    }
  });

  it('404s an unknown app', async () => {
    const missing = `${uniqueName('nope')}-${space}`;
    for (const res of [
      await post(`/apps/${missing}/log-drains`, { url }),
      await request(app).get(`/apps/${missing}/log-drains`).set(authHeader),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.message).toBe(`The specified application ${missing} does not exist.`);
    }
  });

  it('lists, and finds by id, url and token', async () => {
    const list = await request(app).get(`/apps/${appKey}/log-drains`).set(authHeader);
    expect(list.status).toBe(200);
    expect(list.body.map((d: { id: string }) => d.id)).toEqual([id]);
    for (const key of [id, encodeURIComponent(url), appKey]) {
      const res = await request(app).get(`/apps/${appKey}/log-drains/${key}`).set(authHeader);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(id);
    }
  });

  it('404s an unknown drain id', async () => {
    const other = '00000000-0000-4000-8000-000000000000';
    const res = await request(app).get(`/apps/${appKey}/log-drains/${other}`).set(authHeader);
    expect(res.status).toBe(404);
    expect(res.body.message).toBe(`The specified log drain ${other} does not exist.`);
    const del = await request(app).delete(`/apps/${appKey}/log-drains/${other}`).set(authHeader);
    expect(del.status).toBe(404);
  });

  it('keeps drains per app: another app does not see this one', async () => {
    const otherKey = `${uniqueName('dapi')}-${space}`;
    await core.apps.register(otherKey);
    const res = await request(app).get(`/apps/${otherKey}/log-drains/${id}`).set(authHeader);
    expect(res.status).toBe(404);
    expect((await request(app).get(`/apps/${otherKey}/log-drains`).set(authHeader)).body).toEqual([]);
  });

  it('refuses to pick a drain by token when the app has several (409), and still finds each by id or url', async () => {
    const second = await post(`/apps/${appKey}/log-drains`, { url: 'https://collector.example.com/logs' });
    expect(second.status).toBe(201);
    const byToken = await request(app).delete(`/apps/${appKey}/log-drains/${appKey}`).set(authHeader);
    expect(byToken.status).toBe(409);
    expect(byToken.body.message).toBe(`The token ${appKey} names more than one log drain on this application; use the drain id or url.`);
    expect((await request(app).get(`/apps/${appKey}/log-drains/${id}`).set(authHeader)).body.id).toBe(id);
    const removed = await request(app).delete(`/apps/${appKey}/log-drains/${second.body.id}`).set(authHeader);
    expect(removed.status).toBe(200);
    expect((await request(app).get(`/apps/${appKey}/log-drains`).set(authHeader)).body.map((d: { id: string }) => d.id)).toEqual([id]);
  });

  it('deletes (200 with the drain), then 404', async () => {
    const res = await request(app).delete(`/apps/${appKey}/log-drains/${id}`).set(authHeader);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(id);
    expect((await request(app).get(`/apps/${appKey}/log-drains/${id}`).set(authHeader)).status).toBe(404);
    expect((await request(app).get(`/apps/${appKey}/log-drains`).set(authHeader)).body).toEqual([]);
  });
});

describe('site drains', () => {
  it('creates, refuses a duplicate with the site text, lists and deletes', async () => {
    const url = 'https://user:pw@collector.example.com/logs';
    const res = await post(`/sites/${site}/log-drains`, { url });
    expect(res.status).toBe(201);
    expect(res.body.token).toBe(site);
    expect(res.body.url).toBe(url);
    const dup = await post(`/sites/${site}/log-drains`, { url });
    expect(dup.status).toBe(400);
    expect(dup.body.message).toBe('The requested log drain already exists on this site.');
    expect((await request(app).get(`/sites/${site}/log-drains`).set(authHeader)).body).toHaveLength(1);
    expect((await request(app).delete(`/sites/${site}/log-drains/${res.body.id}`).set(authHeader)).status).toBe(200);
  });
});

describe('DLQ storage', () => {
  it('parks a line carrying a NUL byte (stored as U+FFFD) instead of refusing it forever', async () => {
    const created = await post(`/apps/${appKey}/log-drains`, { url: `https://nul.${uniqueName('h')}.example.com/logs` });
    expect(created.status).toBe(201);
    const line = {
      time: new Date(),
      app: appKey.split('-')[0],
      space,
      appKey,
      source: 'app',
      dyno: 'web.1',
      processType: 'web',
      severity: 6,
      message: 'binary\u0000junk',
      position: { topic: space, partition: 0, offset: '1' },
    };
    const now = new Date();
    const parked = await feature.dlq.park([
      { drainId: created.body.id, appKey, line, attempts: 1, lastError: 'HTTP 400', firstAttemptAt: now, lastAttemptAt: now },
    ]);
    expect(parked.parked).toBe(1);
    const list = await request(app).get(`/drains/dlq?drain=${created.body.id}`).set(authHeader);
    expect(list.body.count).toBe(1);
    expect(list.body.items[0].line.message).toBe('binary\uFFFDjunk');
    await request(app).delete(`/apps/${appKey}/log-drains/${created.body.id}`).set(authHeader).expect(200);
  });
});

describe('DLQ API validation', () => {
  it('lists an empty selection with a count', async () => {
    const res = await request(app).get(`/drains/dlq?app=${appKey}&limit=5`).set(authHeader);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ count: 0, items: [], dropped: 0, dropped_by_drain: [] });
  });

  it('422s a bad limit or drain id', async () => {
    const bad = await request(app).get('/drains/dlq?limit=abc').set(authHeader);
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe('The specified limit abc was not a number between 0 and 1000.');
    expect((await request(app).get('/drains/dlq?limit=1001').set(authHeader)).status).toBe(422);
    const drain = await request(app).get('/drains/dlq?drain=xyz').set(authHeader);
    expect(drain.status).toBe(422);
    expect(drain.body.message).toBe('The specified drain xyz is not a valid drain id (a uuid).');
  });

  it('400s a retry or discard that selects nothing', async () => {
    const retry = await post('/drains/dlq/retry', {});
    expect(retry.status).toBe(400);
    expect(retry.body.message).toBe('The request did not say which lines to retry: give "id", "ids", "drain" or "app" (or "all": true).');
    const discard = await request(app).delete('/drains/dlq').set(authHeader);
    expect(discard.status).toBe(400);
    expect((await post('/drains/dlq/retry', { id: 'x1' })).status).toBe(422);
  });
});
