/**
 * Outages of the real services (issue 13 "Tests"), each on a throwaway instance of its own
 * (spec/helpers/throwaway.ts) so the shared stack other runs use is never stopped:
 * - PostgreSQL stopped: /health/ready is 200 DEGRADED naming it; an open tail keeps streaming;
 *   session creation for an app this node knows still works (unknown apps: 503); started: UP.
 * - InfluxDB stopped: DEGRADED naming it; a cached range that ended before the outage is answered
 *   stale (Warning: 110), an uncached one is 503; started: UP and fresh again.
 * - Kafka stopped: 503; started: 200, and the log holds exactly one "gone" and one "back" line for it.
 */
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, createCore, Core } from '../../lib/core';
import { createDb } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { migrate } from '../../lib/migrate';
import { createMetricsFeature, MetricsFeature } from '../../lib/metrics';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { authHeader, testConfig, uniqueName } from '../helpers/env';
import { ThrowawayInflux, ThrowawayKafka, ThrowawayPostgres } from '../helpers/throwaway';
import { appMessage } from '../helpers/app-message';
import { Stream } from '../helpers/stream';
import { waitFor } from '../helpers/wait';
import { CapturedLog } from '../helpers/captured-log';

jest.setTimeout(120_000);

/** A node (createApp on a real HTTP server, so logplex_urls resolve) with the given features. */
async function listen(core: Core, features: Parameters<typeof createApp>[1]): Promise<http.Server> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('request', createApp(core, features));
  return server;
}

async function close(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

const ready = (server: http.Server) => request(server).get('/health/ready');

describe('PostgreSQL stopped and started', () => {
  const space = uniqueName('pgo');
  const app = uniqueName('a');
  const key = `${app}-${space}`;
  let pg: ThrowawayPostgres;
  let core: Core;
  let tail: TailFeature;
  let server: http.Server;
  const streams: Stream[] = [];

  beforeAll(async () => {
    pg = await ThrowawayPostgres.create();
    const db = createDb(pg.url, { max: 1 });
    await migrate(db);
    await db.close();
    core = createCore(testConfig({ DATABASE_URL: pg.url }), { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), defaultMetrics: false });
    await core.kafka.createTopic(space, 1);
    tail = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250 });
    server = await listen(core, [tail]);
    await tail.start();
  });

  afterAll(async () => {
    streams.forEach((s) => s.close());
    await tail?.stop();
    await close(server);
    if (core) await closeCore(core);
    await pg?.destroy();
  });

  it('DEGRADED naming it; a tail keeps streaming; a known app still gets sessions, an unknown one 503; back: UP', async () => {
    await core.kafka.produce(space, [{ key: app, value: appMessage(app, space, 'before the outage') }]);
    await waitFor(`${key} registered from its first line`, () => core.apps.find(key));
    const created = await request(server).post(`/apps/${key}/log-sessions`).set(authHeader).send({ lines: 10, tail: true }).expect(201);
    const s = new Stream(created.body.logplex_url);
    streams.push(s);
    await waitFor('the line before the outage', async () => s.text.includes('before the outage'));
    expect((await ready(server)).body.state).toBe('UP');

    await pg.stop();
    const degraded = await ready(server);
    expect(degraded.status).toBe(200);
    expect(degraded.body.state).toBe('DEGRADED');
    expect(degraded.body.dependencies.postgresql.state).toBe('DOWN');
    expect(degraded.body.dependencies.kafka.state).toBe('UP');
    expect(degraded.body.message).toMatch(/^Degraded: postgresql down \(affects: .*log-session creation for apps not yet known/);

    await core.kafka.produce(space, [{ key: app, value: appMessage(app, space, 'during the outage') }]);
    await waitFor('the line produced during the outage, on the open tail', async () => s.text.includes('during the outage'));
    expect(s.ended).toBe(false);

    const again = await request(server).post(`/apps/${key}/log-sessions`).set(authHeader).send({ lines: 10, tail: false });
    expect(again.status).toBe(201);
    const history = new Stream(again.body.logplex_url);
    streams.push(history);
    await waitFor('a new session’s history during the outage', async () => history.ended);
    expect(history.text).toContain('during the outage');

    const unknown = await request(server)
      .post(`/apps/${uniqueName('u')}-${space}/log-sessions`)
      .set(authHeader)
      .send({ lines: 10 });
    expect(unknown.status).toBe(503);
    expect(unknown.body).toEqual({ id: 'service_unavailable', message: expect.stringMatching(/^PostgreSQL is unavailable/) });

    await pg.start();
    const up = await waitFor('readiness UP once PostgreSQL is back', async () => {
      const r = await ready(server);
      return r.body.state === 'UP' ? r : undefined;
    });
    expect(up.status).toBe(200);
    expect(up.body.dependencies.postgresql.state).toBe('UP');
    await core.kafka.produce(space, [{ key: app, value: appMessage(app, space, 'after the outage') }]);
    await waitFor('the line after the outage, on the same tail', async () => s.text.includes('after the outage'));
  });
});

describe('InfluxDB stopped and started', () => {
  const key = `${uniqueName('io')}-${uniqueName('sp')}`;
  let influx: ThrowawayInflux;
  let core: Core;
  let metrics: MetricsFeature;
  let server: http.Server;

  beforeAll(async () => {
    influx = await ThrowawayInflux.create();
    core = createCore(testConfig({ INFLUX_URL: influx.url }), { logger: createLogger('silent'), defaultMetrics: false });
    await core.influx.query(`CREATE DATABASE ${core.influx.db}`);
    await core.apps.register(key);
    // TTLs of 1 s, so an answer is past its TTL soon after the first request (the default is 1 h).
    metrics = createMetricsFeature(core, { openTtlSeconds: 1, closedTtlSeconds: 1 });
    server = await listen(core, [metrics]);
  });

  afterAll(async () => {
    await metrics?.stop?.();
    await close(server);
    if (core) await closeCore(core);
    await influx?.destroy();
  });

  it('DEGRADED naming it; a cached range that ended before the outage is stale with Warning: 110, uncached is 503; back: UP, fresh', async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    const pt = (t: number, value: number) => ({
      measurement: 'memory_rss',
      tags: { app: key, process_type: 'web', instance: 'web.1' },
      fields: { value },
      timestamp: t,
    });
    await core.influx.writePoints([pt(hour - 3 * 3600, 100), pt(hour - 2 * 3600, 200), pt(hour - 5 * 3600, 500)]);
    const cached = { resolution: '1h', from: String(hour - 4 * 3600), to: String(hour - 3600) };
    const uncached = { resolution: '1h', from: String(hour - 6 * 3600), to: String(hour - 4 * 3600) };
    const first = await request(server).get(`/apps/${key}/metrics`).query(cached).set(authHeader).expect(200);
    expect(first.body).toEqual({ web: { memory_rss: { [hour - 3 * 3600]: 100, [hour - 2 * 3600]: 200 } } });
    expect(first.headers.warning).toBeUndefined();

    await influx.stop();
    // While the answer is fresh it is a hit, served without a Warning and without asking InfluxDB; once
    // its 1 s TTL has passed it is a miss, InfluxDB is down, and the same answer comes back stale.
    const stale = await waitFor('the cached answer served stale', async () => {
      const res = await request(server).get(`/apps/${key}/metrics`).query(cached).set(authHeader);
      return res.headers.warning !== undefined && res;
    });
    expect(stale.status).toBe(200);
    expect(stale.headers.warning).toBe('110 - "Response is Stale"');
    expect(stale.text).toBe(first.text);
    expect(stale.headers.etag).toBe(first.headers.etag);

    const none = await request(server).get(`/apps/${key}/metrics`).query(uncached).set(authHeader);
    expect(none.status).toBe(503);
    expect(none.body.message).toMatch(/^InfluxDB is unavailable/);
    expect((await request(server).get(`/apps/${key}/metrics/current`).set(authHeader)).status).toBe(503);

    const degraded = await ready(server);
    expect(degraded.status).toBe(200);
    expect(degraded.body.state).toBe('DEGRADED');
    expect(degraded.body.dependencies.influxdb.state).toBe('DOWN');
    expect(degraded.body.message).toBe('Degraded: influxdb down (affects: metrics API).');

    await influx.start();
    await waitFor('readiness UP once InfluxDB is back', async () => (await ready(server)).body.state === 'UP');
    const fresh = await request(server).get(`/apps/${key}/metrics`).query(cached).set(authHeader).expect(200);
    expect(fresh.headers.warning).toBeUndefined();
    expect(fresh.body).toEqual(first.body);
    const nowAnswered = await request(server).get(`/apps/${key}/metrics`).query(uncached).set(authHeader).expect(200);
    expect(nowAnswered.body).toEqual({ web: { memory_rss: { [hour - 5 * 3600]: 500 } } });
  });
});

describe('Kafka stopped and started', () => {
  const captured = new CapturedLog();
  const space = uniqueName('ko');
  const app = uniqueName('a');
  let kafka: ThrowawayKafka;
  let core: Core;
  let tail: TailFeature;
  let server: http.Server;

  beforeAll(async () => {
    kafka = await ThrowawayKafka.create();
    core = createCore(testConfig({ KAFKA_BROKERS: kafka.broker, LOG_LEVEL: 'debug' }), { logger: createLogger('debug', captured), defaultMetrics: false });
    await core.kafka.createTopic(space, 1);
    tail = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250 });
    server = await listen(core, [tail]);
    await tail.start();
  });

  afterAll(async () => {
    await tail?.stop();
    await close(server);
    await core?.db.query('DELETE FROM apps WHERE space = $1', [space]).catch(() => undefined);
    if (core) await closeCore(core);
    await kafka?.destroy();
  });

  it('503 while it is down; 200 once back; one "gone" and one "back" line in the log', async () => {
    await core.kafka.produce(space, [{ key: app, value: appMessage(app, space, 'hello') }]);
    await waitFor('readiness UP with the hub consuming', async () => (await ready(server)).body.state === 'UP');
    const mark = captured.text.length;

    await kafka.stop();
    const down = await waitFor('readiness 503 with Kafka stopped', async () => {
      const r = await ready(server);
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.state).toBe('DOWN');
    expect(down.body.dependencies.kafka.state).toBe('DOWN');
    expect(down.body.message).toMatch(/kafka down/);

    await kafka.start();
    const up = await waitFor(
      'readiness 200 UP once Kafka is back (DEGRADED meanwhile while the hub consumer restarts from its crash)',
      async () => {
        const r = await ready(server);
        return r.status === 200 && r.body.state === 'UP' ? r : undefined;
      },
      90_000,
    );
    expect(up.body.state).toBe('UP');

    const during = captured.text
      .slice(mark)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const gone = during.filter((l) => l.dependency === 'kafka' && l.level === 40);
    const back = during.filter((l) => l.dependency === 'kafka' && l.level === 30);
    // On a failure, what the tracker saw and when (a flake here once logged "unreachable" twice).
    if (gone.length !== 1 || back.length !== 1)
      console.log(during.filter((l) => l.dependency === 'kafka' || Number(l.level) >= 40).map((l) => JSON.stringify(l)));
    expect(gone.map((l) => l.msg)).toEqual([expect.stringMatching(/^kafka unreachable; affected: /)]);
    expect(back.map((l) => l.msg)).toEqual([expect.stringMatching(/^kafka is back after /)]);
    // What a Kafka restart writes (every level but the access log), for the issue note (OUTAGE_LOG=<file> to keep it).
    if (process.env.OUTAGE_LOG) {
      const said = during.filter((l) => l.msg !== 'request');
      fs.writeFileSync(process.env.OUTAGE_LOG, said.map((l) => JSON.stringify(l)).join('\n') + '\n');
    }
  });
});
