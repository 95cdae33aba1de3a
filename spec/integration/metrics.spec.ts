/** GET /apps/:app/metrics and /metrics/current against the real InfluxDB 1.6 (docs/design.md §3 "Metrics"). */
import net from 'node:net';
import express from 'express';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import type { InfluxPoint } from '../../lib/influx';
import { createMetricsFeature, MetricsFeature, MetricsFeatureOptions } from '../../lib/metrics';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { ThrowawayInflux } from '../helpers/throwaway';
import { waitFor } from '../helpers/wait';

const T0 = 1704067200; // 2024-01-01T00:00:00Z, a multiple of 600
const RES = 600;
const B = (i: number) => T0 + i * RES; // bucket starts
const iso = (s: number) => new Date(s * 1000).toISOString();
/** every 60 s from `from` (inclusive) to `to` (exclusive) */
const every60 = (from: number, to: number) => Array.from({ length: (to - from) / 60 }, (_, i) => from + i * 60);

const AGGREGATIONS = ['node', 'influx'] as const;
const WEB_RATES: Record<string, number> = { w1: 1, w2: 2, w3: 4 };
const WEB_RSS: Record<string, number> = { w1: 100, w2: 200, w3: 600 };
/** Buckets with data: -1 (counters only, so bucket 0 has a rate), 0, 1, 2, then a gap at 3, then 4. */
const DATA_BUCKETS = [0, 1, 2, 4];

/** Seed: web × 3 instances (gauge memory_rss, counter cpu_usage_seconds_total), worker × 1 (memory_rss, and a
 * network counter that resets at bucket 2), plus decoys that must never show: other apps, points outside the range. */
function seed(app: string, other: string): InfluxPoint[] {
  const pts: InfluxPoint[] = [];
  const p = (measurement: string, process_type: string, instance: string, t: number, value: number, a = app) =>
    pts.push({ measurement, tags: { app: a, process_type, instance }, fields: { value }, timestamp: t });
  for (const inst of Object.keys(WEB_RATES)) {
    for (const t of every60(B(-1), B(3)).concat(every60(B(4), B(5)))) p('cpu_usage_seconds_total', 'web', inst, t, WEB_RATES[inst] * (t - B(-1)) + 5000);
    for (const b of DATA_BUCKETS) {
      // alternating ±5 around base + 10 per bucket: the bucket mean is exactly base + 10·b
      every60(B(b), B(b + 1)).forEach((t, i) => p('memory_rss', 'web', inst, t, WEB_RSS[inst] + 10 * b + (i % 2 ? 5 : -5)));
    }
    p('memory_rss', 'web', inst, B(0) - 60, 1e9); // before from
    p('memory_rss', 'web', inst, B(5), 1e9); // at to (exclusive)
  }
  for (const b of DATA_BUCKETS) for (const t of every60(B(b), B(b + 1))) p('memory_rss', 'worker', 'k1', t, 50);
  for (const t of every60(B(-1), B(3)).concat(every60(B(4), B(5)))) {
    p('network_receive_bytes_total', 'worker', 'k1', t, t < B(2) ? 10 * (t - B(-1)) : 10 * (t - B(2))); // reset at bucket 2
  }
  for (const t of every60(B(0), B(5))) p('memory_rss', 'web', 'w1', t, 1e9, other);
  return pts;
}

/** Reference: mean and nearest-rank 90th percentile (what InfluxDB's PERCENTILE computes). */
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9 + 0.5) - 1];

function expectSeries(actual: Record<string, number>, expected: Record<number, number>) {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) expect(actual[k]).toBeCloseTo(v, 9);
}

let core: Core;
let appKey: string;
let otherKey: string;
const features: MetricsFeature[] = [];

function mount(c: Core, opts: MetricsFeatureOptions = {}): express.Express {
  const f = createMetricsFeature(c, opts);
  features.push(f);
  return createApp(c, [f]);
}

beforeAll(async () => {
  core = createTestCore();
  appKey = `${uniqueName('m')}-${uniqueName('s')}`;
  otherKey = `${uniqueName('o')}-${uniqueName('s')}`;
  await core.apps.register(appKey);
  await core.apps.register(otherKey);
  await core.influx.writePoints(seed(appKey, otherKey));
});

afterAll(async () => {
  for (const f of features) await f.stop?.();
  await closeCore(core);
});

describe('GET /apps/:app/metrics', () => {
  const range = `resolution=10m&from=${iso(B(0))}&to=${iso(B(5))}`;

  it.each(AGGREGATIONS)(
    'gauges: mean across instances per process type and bucket; gaps and data outside the range left out (aggregation %s)',
    async (aggregation) => {
      const res = await request(mount(core, { aggregation })).get(`/apps/${appKey}/metrics?${range}`).set(authHeader).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(res.body)).toEqual(['web', 'worker']);
      expect(Object.keys(res.body.web)).toEqual(['cpu_usage_seconds_total', 'memory_rss']);
      expect(Object.keys(res.body.worker)).toEqual(['memory_rss', 'network_receive_bytes_total']);
      expectSeries(res.body.web.memory_rss, { [B(0)]: 300, [B(1)]: 310, [B(2)]: 320, [B(4)]: 340 });
      const rss = Object.values(WEB_RSS);
      for (const b of DATA_BUCKETS) expect(res.body.web.memory_rss[B(b)]).toBeCloseTo(mean(rss.map((r) => r + 10 * b)), 9);
      expectSeries(res.body.worker.memory_rss, { [B(0)]: 50, [B(1)]: 50, [B(2)]: 50, [B(4)]: 50 });
    },
  );

  it.each(AGGREGATIONS)(
    'counters: per-instance per-second rate (bucket 0 from the bucket before; across the gap), then mean (aggregation %s)',
    async (aggregation) => {
      const res = await request(mount(core, { aggregation })).get(`/apps/${appKey}/metrics?${range}`).set(authHeader).expect(200);
      const rates = Object.values(WEB_RATES);
      expectSeries(res.body.web.cpu_usage_seconds_total, { [B(0)]: 7 / 3, [B(1)]: 7 / 3, [B(2)]: 7 / 3, [B(4)]: 7 / 3 });
      expect(res.body.web.cpu_usage_seconds_total[B(0)]).toBeCloseTo(mean(rates), 9);
      // the reset at bucket 2 gives no point there (non-negative), and bucket 4's rate spans the gap
      expectSeries(res.body.worker.network_receive_bytes_total, { [B(0)]: 10, [B(1)]: 10, [B(4)]: 10 });
    },
  );

  it.each(AGGREGATIONS)('stat=p90: the 90th percentile across instances instead of the mean (aggregation %s)', async (aggregation) => {
    const res = await request(mount(core, { aggregation })).get(`/apps/${appKey}/metrics?${range}&stat=p90`).set(authHeader).expect(200);
    const rss = Object.values(WEB_RSS);
    expectSeries(res.body.web.memory_rss, Object.fromEntries(DATA_BUCKETS.map((b) => [B(b), p90(rss.map((r) => r + 10 * b))])));
    expect(res.body.web.memory_rss[B(0)]).toBeCloseTo(600, 9);
    expectSeries(res.body.web.cpu_usage_seconds_total, { [B(0)]: 4, [B(1)]: 4, [B(2)]: 4, [B(4)]: 4 });
    expectSeries(res.body.worker.memory_rss, { [B(0)]: 50, [B(1)]: 50, [B(2)]: 50, [B(4)]: 50 });
  });

  it('accepts epoch seconds, rounds the range out to whole buckets, and other resolutions bucket accordingly', async () => {
    const web = mount(core);
    const a = await request(web)
      .get(`/apps/${appKey}/metrics?resolution=10m&from=${B(1) + 30}&to=${B(2) + 1}`)
      .set(authHeader)
      .expect(200);
    expectSeries(a.body.web.memory_rss, { [B(1)]: 310, [B(2)]: 320 });
    const h = await request(web)
      .get(`/apps/${appKey}/metrics?resolution=1h&from=${iso(B(0))}&to=${iso(B(6))}`)
      .set(authHeader)
      .expect(200);
    // one hour bucket [T0, T0+1h): per instance, the 40 samples of buckets 0,1,2,4 and the 1e9 decoy at B(5)
    // (past `to` for the 10m queries, inside this bucket), then the mean across instances
    const perInstance = Object.values(WEB_RSS).map((r) => (40 * (r + 10 * mean(DATA_BUCKETS)) + 1e9) / 41);
    expectSeries(h.body.web.memory_rss, { [T0]: mean(perInstance) });
    expect(Object.keys(h.body.web.cpu_usage_seconds_total)).toEqual([String(T0)]);
  });

  it('the aka metrics shape: process types, then metric names, then epoch-second keys with numbers; no data → {}', async () => {
    const web = mount(core);
    const res = await request(web).get(`/apps/${appKey}/metrics?${range}`).set(authHeader).expect(200);
    for (const metrics of Object.values(res.body as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [name, points] of Object.entries(metrics)) {
        expect(name).toMatch(/^[a-z_]+$/);
        for (const [k, v] of Object.entries(points)) {
          expect(k).toMatch(/^\d{10}$/);
          expect(typeof v).toBe('number');
        }
      }
    }
    await request(web)
      .get(`/apps/${otherKey}/metrics?resolution=10m&from=${iso(B(-10))}&to=${iso(B(-5))}`)
      .set(authHeader)
      .expect(200, {});
  });

  it('validation: 422 naming the parameter, before anything reaches InfluxDB', async () => {
    const web = mount(core);
    const before = core.influx.stats().queries;
    const cases: [string, RegExp][] = [
      ['resolution=10x', /^The specified resolution "10x" is not valid/],
      ['resolution=0m', /^The specified resolution "0m" is too small: the minimum is 10s\.$/],
      ['resolution=5s', /^The specified resolution "5s" is too small/],
      ['resolution=1m);DROP%20DATABASE%20logway_test', /^The specified resolution .* is not valid/],
      ['from=yesterday', /^The specified from "yesterday" is not a valid date/],
      [`from=${encodeURIComponent("2024-01-01T00:00:00Z' OR 1=1")}`, /^The specified from .* is not a valid date/],
      [`to=${encodeURIComponent('2024-01-01"')}`, /^The specified to .* is not a valid date/],
      [`to=${encodeURIComponent('2024-01-01\n;SHOW DATABASES')}`, /^The specified to .* is not a valid date/],
      [`from=${iso(B(2))}&to=${iso(B(1))}`, /^The specified from \(.*\) must be before to/],
      [`from=${iso(B(1))}&to=${iso(B(1))}`, /must be before to/],
      [`resolution=1m&from=${iso(B(0))}&to=${iso(B(0) + 1001 * 60)}`, /^The specified from and to span 1001 buckets at resolution 1m/],
      [`to=${Math.floor(Date.now() / 1000) + 3 * 86400}`, /^The specified to .* is too far in the future/],
      ['stat=mean;', /^The specified stat "mean;" is not valid: use mean or p90\.$/],
      ['resolution=1m&resolution=5m', /^The specified resolution was given more than once/],
    ];
    for (const [q, message] of cases) {
      const res = await request(web).get(`/apps/${appKey}/metrics?${q}`).set(authHeader);
      expect({ q, status: res.status, id: res.body.id }).toEqual({ q, status: 422, id: 'unprocessable_entity' });
      expect(res.body.message).toMatch(message);
    }
    expect(core.influx.stats().queries).toBe(before);
  });

  it('unknown app → 404 with the Akkeris message; hostile app names never reach InfluxDB as syntax', async () => {
    const web = mount(core, { cache: false });
    const before = core.influx.stats().queries;
    for (const name of [`x'-s`, `x"-s`, `x;-s`, `x\n-s`, `${appKey}' OR app =~ /.*/ --`]) {
      const res = await request(web)
        .get(`/apps/${encodeURIComponent(name)}/metrics`)
        .set(authHeader)
        .expect(404);
      expect(res.body).toEqual({ id: 'not_found', message: `The specified application ${name} does not exist.` });
    }
    expect(core.influx.stats().queries).toBe(before);
    // A registered app whose name is full of InfluxQL syntax gets exactly its own data, by bound parameter.
    const hostile = `q'x"y;z ${uniqueName('h')}-s`;
    await core.apps.register(hostile);
    await core.influx.writePoints([
      { measurement: 'memory_rss', tags: { app: hostile, process_type: 'web', instance: 'i' }, fields: { value: 42 }, timestamp: B(0) },
    ]);
    const res = await request(web)
      .get(`/apps/${encodeURIComponent(hostile)}/metrics?${range}`)
      .set(authHeader)
      .expect(200);
    expect(res.body).toEqual({ web: { memory_rss: { [B(0)]: 42 } } });
  });

  it('requires auth', async () => {
    await request(mount(core)).get(`/apps/${appKey}/metrics`).expect(401);
    await request(mount(core)).get(`/apps/${appKey}/metrics/current`).expect(401);
  });
});

describe('cache', () => {
  it('a second identical request does not reach InfluxDB; only open buckets are re-read; a new bucket is a new key', async () => {
    const app = `${uniqueName('c')}-${uniqueName('s')}`;
    await core.apps.register(app);
    const pt = (t: number, value: number): InfluxPoint => ({
      measurement: 'memory_usage_bytes',
      tags: { app, process_type: 'web', instance: 'a' },
      fields: { value },
      timestamp: t,
    });
    await core.influx.writePoints([pt(B(0), 1), pt(B(1), 2), pt(B(2), 3)]);
    let clock = (B(2) + 120) * 1000; // bucket 2 is open, buckets 0 and 1 closed (settle 60 s)
    const web = mount(core, { now: () => clock, openTtlSeconds: 1, closedTtlSeconds: 600, plan: 'kind', transport: 'batch' });
    const get = () =>
      request(web)
        .get(`/apps/${app}/metrics?resolution=10m&from=${iso(B(0))}`)
        .set(authHeader)
        .expect(200);

    const q0 = core.influx.stats().queries;
    const first = await get();
    expect(first.body).toEqual({ web: { memory_usage_bytes: { [B(0)]: 1, [B(1)]: 2, [B(2)]: 3 } } });
    expect(core.influx.stats().queries).toBe(q0 + 1);
    clock += 5000; // same buckets, same key
    const second = await get();
    expect(second.text).toBe(first.text);
    expect(core.influx.stats().queries).toBe(q0 + 1);
    // a polling client that sends the ETag back gets a 304 without a body
    expect(first.headers.etag).toMatch(/^"[\w-]+"$/);
    await request(web)
      .get(`/apps/${app}/metrics?resolution=10m&from=${iso(B(0))}`)
      .set(authHeader)
      .set('If-None-Match', first.headers.etag)
      .expect(304);
    expect(core.influx.stats().queries).toBe(q0 + 1);

    // A late point in closed bucket 1 and a new one in open bucket 2: once the short-lived answer expires,
    // only the open bucket is read again (bucket 1 stays as cached).
    await core.influx.writePoints([pt(B(1) + 60, 1000), pt(B(2) + 60, 5)]);
    const body = await waitFor(
      'the short-lived answer to expire',
      async () => {
        const b = (await get()).body;
        return b.web.memory_usage_bytes[B(2)] !== 3 && b;
      },
      30_000,
      200,
    );
    expect(body).toEqual({ web: { memory_usage_bytes: { [B(0)]: 1, [B(1)]: 2, [B(2)]: 4 } } });
    expect(core.influx.stats().queries).toBe(q0 + 2);

    clock = (B(3) + 90) * 1000; // a new bucket: new aligned `to`, new key, everything read again
    const third = await get();
    expect(core.influx.stats().queries).toBe(q0 + 3);
    expect(third.body).toEqual({ web: { memory_usage_bytes: { [B(0)]: 1, [B(1)]: 501, [B(2)]: 4 } } });

    const metrics = await request(web).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/logway_metrics_cache_hits_total\{part="response"\} [1-9]/);
    expect(metrics.text).toMatch(/logway_metrics_cache_misses_total\{part="response"\} [1-9]/);
    expect(metrics.text).toMatch(/logway_metrics_query_duration_seconds_count\{query="series"\} [1-9]/);
  });

  it('concurrent identical misses share one InfluxDB read', async () => {
    const web = mount(core, { plan: 'kind', transport: 'batch' });
    const q0 = core.influx.stats().queries;
    const url = `/apps/${appKey}/metrics?resolution=20m&from=${iso(B(0))}&to=${iso(B(6))}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(web).get(url).set(authHeader).expect(200)));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(core.influx.stats().queries).toBe(q0 + 1);
  });

  it('every aggregation, plan and transport gives the same answer', async () => {
    const url = `/apps/${appKey}/metrics?${`resolution=10m&from=${iso(B(0))}&to=${iso(B(5))}`}`;
    for (const stat of ['mean', 'p90']) {
      const answers: Record<string, Record<string, Record<string, number>>>[] = [];
      for (const aggregation of AGGREGATIONS) {
        for (const plan of ['kind', 'metric'] as const) {
          for (const transport of ['batch', 'parallel'] as const) {
            const web = mount(core, { aggregation, plan, transport, cache: false });
            answers.push((await request(web).get(`${url}&stat=${stat}`).set(authHeader).expect(200)).body);
          }
        }
      }
      for (const other of answers.slice(1)) {
        expect(Object.keys(other)).toEqual(Object.keys(answers[0]));
        for (const [pt, metrics] of Object.entries(answers[0])) {
          expect(Object.keys(other[pt])).toEqual(Object.keys(metrics));
          for (const [name, points] of Object.entries(metrics)) expectSeries(other[pt][name], points as unknown as Record<number, number>);
        }
      }
    }
  });
});

describe('GET /apps/:app/metrics/current', () => {
  it('the latest value per process type, instance and metric; counters with their current rate', async () => {
    const clock = (B(5) - 30) * 1000; // the decoy at B(5) is in this clock's future
    const web = mount(core, { now: () => clock, snapshotWindowSeconds: 600 });
    const res = await request(web).get(`/apps/${appKey}/metrics/current`).set(authHeader).expect(200);
    const last = B(5) - 60;
    expect(res.body).toEqual({
      web: Object.fromEntries(
        Object.keys(WEB_RATES).map((inst) => [
          inst,
          {
            cpu_usage_seconds_total: { time: last, value: WEB_RATES[inst] * (last - B(-1)) + 5000, rate: WEB_RATES[inst] },
            memory_rss: { time: last, value: WEB_RSS[inst] + 40 + 5 },
          },
        ]),
      ),
      worker: {
        k1: {
          memory_rss: { time: last, value: 50 },
          network_receive_bytes_total: { time: last, value: 10 * (last - B(2)), rate: 10 },
        },
      },
    });
  });

  it('an app with nothing recent → {}', async () => {
    const web = mount(core, { now: () => B(40) * 1000 });
    await request(web).get(`/apps/${appKey}/metrics/current`).set(authHeader).expect(200, {});
    await request(web)
      .get(`/apps/nope${uniqueName('x')}-s/metrics/current`)
      .set(authHeader)
      .expect(404);
  });
});

describe('InfluxDB outage', () => {
  it('an InfluxDB that accepts connections but never answers → 503 naming InfluxDB at the timeout', async () => {
    const sockets = new Set<net.Socket>();
    const blackhole = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as net.AddressInfo).port;
    const slow = createTestCore({ INFLUX_URL: `http://127.0.0.1:${port}`, INFLUX_TIMEOUT_MS: '300' });
    try {
      await slow.apps.register(appKey);
      const res = await request(mount(slow)).get(`/apps/${appKey}/metrics`).set(authHeader).expect(503);
      expect(res.body).toEqual({ id: 'service_unavailable', message: 'InfluxDB is unavailable: no answer within 300 ms.' });
      const cur = await request(mount(slow)).get(`/apps/${appKey}/metrics/current`).set(authHeader).expect(503);
      expect(cur.body.message).toBe('InfluxDB is unavailable: no answer within 300 ms.');
    } finally {
      await closeCore(slow);
      for (const s of sockets) s.destroy();
      await new Promise((r) => blackhole.close(r));
    }
  });

  it('InfluxDB stopped → 503 naming InfluxDB; started again → 200', async () => {
    // An InfluxDB of this spec's own: the stack's is shared with other runs and is never stopped by a test.
    const influx = await ThrowawayInflux.create();
    const own = createTestCore({ INFLUX_URL: influx.url });
    try {
      await own.influx.query(`CREATE DATABASE ${own.influx.db}`);
      await own.influx.writePoints(seed(appKey, otherKey));
      const web = mount(own, { cache: false });
      const url = `/apps/${appKey}/metrics?resolution=10m&from=${iso(B(0))}&to=${iso(B(5))}`;
      await influx.stop();
      const res = await request(web).get(url).set(authHeader).expect(503);
      expect(res.body.id).toBe('service_unavailable');
      expect(res.body.message).toMatch(/^InfluxDB is unavailable: /);
      await influx.start();
      const back = await request(web).get(url).set(authHeader).expect(200);
      expectSeries(back.body.web.memory_rss, { [B(0)]: 300, [B(1)]: 310, [B(2)]: 320, [B(4)]: 340 });
    } finally {
      await closeCore(own);
      await influx.destroy();
    }
  });
});
