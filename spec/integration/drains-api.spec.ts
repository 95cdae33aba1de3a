/** Drain API and DLQ API validation against the real PostgreSQL (no worker: the API alone). */
import express from 'express';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { appKeyLine } from '../helpers/log-line';

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

const post = (path: string, body: unknown) =>
  request(app)
    .post(path)
    .set(authHeader)
    .send(body as object);

describe('app drains', () => {
  let id = '';
  // Documentation addresses (RFC 5737): public to the destination policy, resolvable without DNS, nothing answers.
  const url = 'syslog+tls://203.0.113.7:6514';

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
      [
        'ftp://logs.example.com:21',
        'The url scheme ftp:// is not supported; use one of syslog://, syslog+tcp://, syslog+tls://, syslog+udp://, http://, https://.',
      ],
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
    for (const res of [await post(`/apps/${missing}/log-drains`, { url }), await request(app).get(`/apps/${missing}/log-drains`).set(authHeader)]) {
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
    const second = await post(`/apps/${appKey}/log-drains`, { url: 'https://198.51.100.20/logs' });
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
    const url = 'https://user:pw@198.51.100.21/logs';
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
    const created = await post(`/apps/${appKey}/log-drains`, { url: 'https://192.0.2.33/nul' });
    expect(created.status).toBe(201);
    const line = appKeyLine(appKey, { time: new Date(), message: 'binary\u0000junk' });
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

describe('drain destination policy at creation (no DRAIN_ALLOW_CIDRS)', () => {
  let strictCore: Core;
  let strictFeature: DrainsFeature;
  let strictApp: express.Express;
  const strictKey = `${uniqueName('dpol')}-${space}`;

  beforeAll(async () => {
    strictCore = createTestCore({ DRAIN_ALLOW_CIDRS: '' });
    strictFeature = createDrainsFeature(strictCore, { worker: false });
    strictApp = createApp(strictCore, [strictFeature]);
    await strictCore.apps.register(strictKey);
  });

  afterAll(async () => {
    await strictFeature?.stop?.();
    if (strictCore) await closeCore(strictCore);
  });

  const create = (url: string) => request(strictApp).post(`/apps/${strictKey}/log-drains`).set(authHeader).send({ url });

  it.each([
    ['http://169.254.169.254/', '169.254.169.254 is a cloud metadata address'],
    ['syslog://127.0.0.1:6379', '127.0.0.1 is a loopback address'],
    ['http://0x7f.1/', '127.0.0.1 is a loopback address'],
    ['http://2130706433/', '127.0.0.1 is a loopback address'],
    ['syslog://017700000001:514', '127.0.0.1 is a loopback address'],
    ['https://[::1]:8086/', '::1 is a loopback address'],
    ['https://[::ffff:127.0.0.1]:8086/', '::ffff:7f00:1 is an IPv6 form of 127.0.0.1, a loopback address'],
    ['syslog+udp://0.0.0.0:514', '0.0.0.0 is an unspecified ("this network") address'],
    ['syslog+tcp://224.0.0.1:514', '224.0.0.1 is a multicast address'],
    ['http://[fe80::1]/', 'fe80::1 is a link-local address'],
    ['syslog://10.1.2.3:514', '10.1.2.3 is a private address'],
    ['https://192.168.0.10/', '192.168.0.10 is a private address'],
    ['syslog+tls://localhost:6514', 'localhost resolves to 127.0.0.1, a loopback address'],
    ['syslog+tls://localhost.:6514', 'localhost. resolves to 127.0.0.1, a loopback address'],
  ])('refuses %s with 422 (%s)', async (url, reason) => {
    const res = await create(url);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ id: 'unprocessable_entity', message: `The specified drain destination is not allowed: ${reason}.` });
  });

  it('refuses a host that does not resolve with 422', async () => {
    const res = await create('syslog+tls://nowhere.invalid:6514');
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ id: 'unprocessable_entity', message: 'The specified drain host nowhere.invalid could not be resolved.' });
  });

  it('stored nothing for the refused urls; a public destination is still accepted', async () => {
    expect((await request(strictApp).get(`/apps/${strictKey}/log-drains`).set(authHeader)).body).toEqual([]);
    expect((await create('syslog+tls://203.0.113.9:6514')).status).toBe(201);
  });

  it('DRAIN_ALLOW_CIDRS (the suite sets 127.0.0.0/8) allows what it names', async () => {
    const res = await post(`/apps/${appKey}/log-drains`, { url: 'syslog://127.0.0.1:6379' });
    expect(res.status).toBe(201);
    await request(app).delete(`/apps/${appKey}/log-drains/${res.body.id}`).set(authHeader).expect(200);
  });
});

describe('MAX_DRAINS_PER_APP (default 10)', () => {
  const drainUrl = (i: number) => `https://198.51.100.${i + 1}/max`;

  it('refuses the 11th drain of an app with 422; deleting one makes room again', async () => {
    const key = `${uniqueName('dmax')}-${space}`;
    await core.apps.register(key);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await post(`/apps/${key}/log-drains`, { url: drainUrl(i) });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const eleventh = await post(`/apps/${key}/log-drains`, { url: drainUrl(10) });
    expect(eleventh.status).toBe(422);
    expect(eleventh.body).toEqual({
      id: 'unprocessable_entity',
      message: 'The maximum number of drains reached for this application (10).',
    });
    // A duplicate stays a duplicate (400) even at the limit.
    expect((await post(`/apps/${key}/log-drains`, { url: drainUrl(0) })).status).toBe(400);
    await request(app).delete(`/apps/${key}/log-drains/${ids[0]}`).set(authHeader).expect(200);
    expect((await post(`/apps/${key}/log-drains`, { url: drainUrl(10) })).status).toBe(201);
    expect((await request(app).get(`/apps/${key}/log-drains`).set(authHeader)).body).toHaveLength(10);
  });

  it('holds under concurrent creates: 15 at once for one site, exactly 10 stored', async () => {
    const s = `${uniqueName('maxsite')}.example.com`;
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => post(`/sites/${s}/log-drains`, { url: drainUrl(i) })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(10);
    expect(statuses.filter((x) => x === 422)).toHaveLength(5);
    for (const r of results.filter((x) => x.status === 422)) {
      expect(r.body.message).toBe('The maximum number of drains reached for this site (10).');
    }
    expect((await request(app).get(`/sites/${s}/log-drains`).set(authHeader)).body).toHaveLength(10);
    await core.db.query('DELETE FROM log_drains WHERE token = $1', [s]);
  });
});
