/** The foundation against the real stack: health/readiness, migrations, auth, errors, Kafka and InfluxDB round trips. */
import express, { Router } from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core, Feature } from '../../lib/core';
import { createDb } from '../../lib/db';
import { migrate, listMigrations } from '../../lib/migrate';
import { jsonBody } from '../../lib/http';
import { signSessionToken } from '../../lib/tail/token';
import { createTestCore, testEnv, uniqueName, TEST_API_KEY, TEST_JWT_SECRET } from '../helpers/env';

/** A feature that exists only for these tests: an authenticated echo, a JSON body, and a route that throws. */
function probeFeature(core: Core): Feature {
  const router = Router();
  router.get('/probe/whoami', core.auth, (req, res) => {
    res.json({ ok: true, request_id: req.id });
  });
  router.post('/probe/echo', core.auth, jsonBody, (req, res) => {
    res.status(201).json(req.body);
  });
  router.get('/probe/boom', () => {
    throw new Error('secret internal detail at /srv/logway/lib/x.ts:12');
  });
  return { name: 'probe', router };
}

let core: Core;
let app: express.Express;

beforeAll(() => {
  core = createTestCore();
  app = createApp(core, [probeFeature(core)]);
});

afterAll(async () => {
  await closeCore(core);
});

describe('health', () => {
  it('answers /healthz and /health/live', async () => {
    await request(app).get('/healthz').expect(200, { state: 'UP' });
    await request(app).get('/health/live').expect(200);
  });

  it('is ready when Kafka, InfluxDB and PostgreSQL answer and migrations are applied', async () => {
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.dependencies).toEqual({
      kafka: { state: 'UP' },
      influxdb: { state: 'UP' },
      postgresql: { state: 'UP' },
      migrations: { state: 'UP' },
    });
  });

  /** A core whose `dependency` points at a port nothing listens on; the rest is the real stack. Stops nothing. */
  async function readyWith(overrides: Record<string, string>) {
    const other = createTestCore(overrides);
    try {
      return await request(createApp(other, [])).get('/health/ready');
    } finally {
      await closeCore(other);
    }
  }

  it('stays ready (200) but DEGRADED naming InfluxDB and what it affects while InfluxDB is down', async () => {
    const res = await readyWith({ INFLUX_URL: 'http://127.0.0.1:1' });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('DEGRADED');
    expect(res.body.dependencies).toEqual({
      kafka: { state: 'UP' },
      influxdb: { state: 'DOWN', error: 'unreachable' },
      postgresql: { state: 'UP' },
      migrations: { state: 'UP' },
    });
    expect(res.body.message).toMatch(/^Degraded: influxdb down \(affects: [^)]*metrics[^)]*\)\.$/);
  });

  it('stays ready (200) but DEGRADED naming PostgreSQL and what it affects while PostgreSQL is down', async () => {
    const res = await readyWith({ DATABASE_URL: 'postgres://logway:logway@127.0.0.1:1/logway' });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('DEGRADED');
    expect(res.body.dependencies.postgresql).toEqual({ state: 'DOWN', error: 'unreachable' });
    expect(res.body.dependencies.migrations).toEqual({ state: 'DOWN', error: 'not checked: PostgreSQL is down' });
    expect(res.body.dependencies.kafka).toEqual({ state: 'UP' });
    expect(res.body.message).toMatch(/^Degraded: postgresql down \(affects: [^)]*drains[^)]*builds[^)]*\)\.$/);
  });

  it('goes 503 DOWN naming Kafka while Kafka is unreachable', async () => {
    const res = await readyWith({ KAFKA_BROKERS: '127.0.0.1:1' });
    expect(res.status).toBe(503);
    expect(res.body.state).toBe('DOWN');
    expect(res.body.dependencies.kafka.state).toBe('DOWN');
    expect(res.body.dependencies.postgresql).toEqual({ state: 'UP' });
    expect(res.body.message).toBe('Not ready: kafka down.');
  });

  it('reports a missing migration as not ready', async () => {
    const schema = uniqueName('ready');
    await core.db.query(`CREATE SCHEMA ${schema}`);
    const other = createTestCore({ DATABASE_URL: `${testEnv.DATABASE_URL}?options=-c%20search_path%3D${schema}` });
    try {
      const res = await request(createApp(other, [])).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.state).toBe('DOWN');
      expect(res.body.dependencies.migrations).toEqual({ state: 'DOWN', error: 'pending migrations' });
      expect(res.body.dependencies.postgresql.state).toBe('UP');
      expect(res.body.message).toBe('Not ready: migrations pending.');
    } finally {
      await closeCore(other);
      await core.db.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it('serves Prometheus text and JSON on /metrics', async () => {
    await request(app).get('/healthz');
    const text = await request(app).get('/metrics').expect(200);
    expect(text.headers['content-type']).toMatch(/text\/plain/);
    expect(text.text).toMatch(/logway_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    const json = await request(app).get('/metrics').set('Accept', 'application/json').expect(200);
    expect(json.body.map((m: { name: string }) => m.name)).toContain('logway_http_requests_total');
  });
});

describe('migrations', () => {
  it('apply once, a second run is a no-op, and two concurrent runs do not conflict', async () => {
    const schemas = [uniqueName('mig'), uniqueName('mig')];
    for (const s of schemas) await core.db.query(`CREATE SCHEMA ${s}`);
    const dbFor = (schema: string) => createDb(`${testEnv.DATABASE_URL}?options=-c%20search_path%3D${schema}`, { max: 2 });
    const all = listMigrations();
    try {
      const one = dbFor(schemas[0]);
      expect(await migrate(one)).toEqual(all);
      expect(await migrate(one)).toEqual([]);
      const recorded = await one.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(recorded.map((r) => r.name)).toEqual(all);
      await one.close();

      const a = dbFor(schemas[1]);
      const b = dbFor(schemas[1]);
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      // Exactly one runner applied everything; the other, after waiting on the lock, found nothing to do.
      expect([ra, rb].sort((x, y) => x.length - y.length)).toEqual([[], all]);
      await Promise.all([a.close(), b.close()]);
    } finally {
      for (const s of schemas) await core.db.query(`DROP SCHEMA ${s} CASCADE`);
    }
  });
});

describe('auth', () => {
  const hs = (payload: object, opts: jwt.SignOptions = {}) => jwt.sign(payload, TEST_JWT_SECRET, { algorithm: 'HS256', ...opts });

  it.each([
    ['no header', undefined],
    ['a wrong key', 'not-a-key'],
    ['a wrong Bearer key', 'Bearer not-a-key'],
    ['a JWT signed with another secret', `Bearer ${jwt.sign({ sub: 'x' }, 'another-secret-entirely', { algorithm: 'HS256' })}`],
    ['an expired JWT', `Bearer ${hs({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 60 })}`],
    ['an unsigned JWT', `Bearer ${jwt.sign({ sub: 'x' }, '', { algorithm: 'none' })}`],
    ['a JWT without exp', `Bearer ${hs({ sub: 'x' })}`],
  ])('rejects %s with 401 JSON', async (_what, header) => {
    const req = request(app).get('/probe/whoami');
    if (header) req.set('Authorization', header);
    const res = await req;
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ id: 'unauthorized', message: expect.any(String) });
  });

  it.each([
    ['the raw key (aka)', TEST_API_KEY],
    ['a second configured key', 'second-key'],
    ['a Bearer key (Heroku CLI)', `Bearer ${TEST_API_KEY}`],
    ['a Bearer HS256 JWT', `Bearer ${hs({ sub: 'ops' }, { expiresIn: 60 })}`],
  ])('lets %s through', async (_what, header) => {
    await request(app).get('/probe/whoami').set('Authorization', header).expect(200);
  });

  it('refuses a logplex_url token as an API token even when JWT_SECRET equals SESSION_SECRET', async () => {
    const same = createTestCore({ JWT_SECRET: testEnv.SESSION_SECRET });
    try {
      const sameApp = createApp(same, [probeFeature(same)]);
      const session = signSessionToken({ kind: 'app', key: 'api-space', lines: 5, tail: true }, testEnv.SESSION_SECRET);
      await request(sameApp).get('/probe/whoami').set('Authorization', `Bearer ${session}`).expect(401);
      await request(sameApp).get('/probe/whoami').set('Authorization', session).expect(401);
      // The same secret still signs API tokens that pass.
      await request(sameApp)
        .get('/probe/whoami')
        .set('Authorization', `Bearer ${jwt.sign({ sub: 'ops' }, testEnv.SESSION_SECRET, { algorithm: 'HS256', expiresIn: 60 })}`)
        .expect(200);
    } finally {
      await closeCore(same);
    }
  });
});

describe('errors and request ids', () => {
  it('turns unparseable JSON into a 400 JSON error', async () => {
    const res = await request(app).post('/probe/echo').set('Authorization', TEST_API_KEY).set('Content-Type', 'application/json').send('{"lines": 5,');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ id: 'bad_request', message: 'The request body was not valid JSON.' });
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const res = await request(app).get('/no/such/route').expect(404);
    expect(res.body.id).toBe('not_found');
  });

  it('never leaks a stack trace or internal message', async () => {
    const res = await request(app).get('/probe/boom').expect(500);
    expect(res.body).toEqual({ id: 'internal_server_error', message: 'Internal server error.' });
    expect(res.text).not.toMatch(/secret|\.ts|at /);
  });

  it('echoes X-Request-Id, or generates one', async () => {
    const echoed = await request(app).get('/healthz').set('X-Request-Id', 'abc-123');
    expect(echoed.headers['x-request-id']).toBe('abc-123');
    const generated = await request(app).get('/healthz');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const bogus = await request(app).get('/healthz').set('X-Request-Id', 'bad id with spaces');
    expect(bogus.headers['x-request-id']).not.toBe('bad id with spaces');
  });
});

describe('real services', () => {
  it('produces to and consumes from Kafka through lib/kafka', async () => {
    const topic = uniqueName('roundtrip');
    await core.kafka.createTopic(topic, 1);
    const values = ['one', 'two', 'three'];
    await core.kafka.produce(
      topic,
      values.map((value) => ({ value })),
    );
    const seen: string[] = [];
    let done!: () => void;
    const allSeen = new Promise<void>((resolve) => (done = resolve));
    const consumer = await core.kafka.consume({ groupId: uniqueName('g'), topics: [topic], fromBeginning: true }, async (batch) => {
      for (const r of batch.records) {
        seen.push(r.value!.toString());
        batch.resolveOffset(r.offset);
      }
      if (seen.length >= values.length) done();
    });
    await allSeen;
    await consumer.stop();
    expect(seen).toEqual(values);
    const offsets = await core.kafka.partitionOffsets(topic);
    expect(offsets).toEqual([{ partition: 0, low: '0', high: '3' }]);
  });

  it('writes to and queries InfluxDB through lib/influx', async () => {
    const app = uniqueName('rt');
    const t = Math.floor(Date.now() / 1000) - 60;
    await core.influx.write(`roundtrip,app=${app} value=1.5 ${t}\nroundtrip,app=${app} value=2.5 ${t + 10}`, 's');
    const results = await core.influx.query('SELECT SUM(value) FROM roundtrip WHERE app = $app', { app });
    expect(results[0].series?.[0].values[0][1]).toBe(4);
  });
});
