/** `GET /apps` (the web console's app list) against the real PostgreSQL app registry. */
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { migrate } from '../../lib/migrate';
import { appsRouter } from '../../routes/apps';
import { createTestCore, uniqueName, authHeader } from '../helpers/env';

describe('GET /apps', () => {
  let core: Core;
  let app: ReturnType<typeof createApp>;
  const space = uniqueName('cs');

  beforeAll(async () => {
    core = createTestCore();
    await migrate(core.db);
    app = createApp(core, [{ name: 'apps', router: appsRouter(core) }]);
  });
  afterAll(() => closeCore(core));

  it('needs the API key', async () => {
    await request(app).get('/apps').expect(401);
  });

  it('lists the apps the registry knows, most recently seen first, with last_seen_at', async () => {
    const older = `old-${space}`;
    const newer = `new-${space}`;
    await core.apps.register(older);
    await core.db.query("UPDATE apps SET last_seen_at = now() - interval '1 hour' WHERE app_key = $1", [older]);
    await core.apps.register(newer);
    const res = await request(app).get('/apps').query({ q: space }).set(authHeader).expect(200);
    expect(res.body.map((a: { name: string }) => a.name)).toEqual([newer, older]);
    for (const a of res.body) {
      expect(Object.keys(a).sort()).toEqual(['id', 'last_seen_at', 'name']);
      expect(Number.isNaN(Date.parse(a.last_seen_at))).toBe(false);
    }
    expect(Date.parse(res.body[0].last_seen_at)).toBeGreaterThan(Date.parse(res.body[1].last_seen_at));
  });

  it('registering an app seen again moves it up (a new node learning it from the stream)', async () => {
    const a = `aa-${space}2`;
    const b = `bb-${space}2`;
    await core.apps.register(a);
    await core.apps.register(b);
    await core.db.query("UPDATE apps SET last_seen_at = now() - interval '1 hour' WHERE app_key = $1", [a]);
    const fresh = createTestCore();
    try {
      await fresh.apps.register(a);
    } finally {
      await closeCore(fresh);
    }
    const res = await request(app)
      .get('/apps')
      .query({ q: `${space}2` })
      .set(authHeader)
      .expect(200);
    expect(res.body.map((x: { name: string }) => x.name)).toEqual([a, b]);
  });

  it('q is a plain substring (LIKE wildcards match themselves) and limit bounds the list', async () => {
    await core.apps.register(`one-${space}3`);
    await core.apps.register(`two-${space}3`);
    const all = await request(app)
      .get('/apps')
      .query({ q: `${space}3`, limit: '1' })
      .set(authHeader)
      .expect(200);
    expect(all.body).toHaveLength(1);
    const wild = await request(app).get('/apps').query({ q: '%' }).set(authHeader).expect(200);
    expect(wild.body).toEqual([]);
  });

  it('a limit that is not 1..1000 is 422', async () => {
    for (const limit of ['0', '1001', 'ten', '-1']) {
      const res = await request(app).get('/apps').query({ limit }).set(authHeader).expect(422);
      expect(res.body).toEqual({ id: 'unprocessable_entity', message: expect.stringContaining('limit') });
    }
  });
});
