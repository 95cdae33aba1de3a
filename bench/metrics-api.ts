/** Benchmark of GET /apps/:app/metrics on the week seeded by bench/metrics-seed.ts (10 instances × 2 process
 * types × 13 metrics, 10-second samples): p50/p99 uncached and cached at 30m, 10m and 1m, requests/s with 50
 * concurrent clients, and beside it the same InfluxQL sent straight to InfluxDB with curl (the floor).
 *
 *   npx tsx bench/metrics-seed.ts      # once (about 2 minutes)
 *   npx tsx bench/metrics-api.ts [--uncached 10] [--cached 2000] [--concurrent-seconds 10] [--cached-only]
 *
 * The gateway runs in a child process (its own event loop and core); this process is the client. */
import { execFile, fork, ChildProcess } from 'node:child_process';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createApp } from '../bin/wiring';
import { createCore } from '../lib/core';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { createInflux } from '../lib/influx';
import { createMetricsFeature, METRICS_DEFAULTS, MetricsFeatureOptions } from '../lib/metrics';
import { buildSeriesStatements, seriesParams } from '../lib/metrics/query';
import { BENCH_APP, BENCH_DB, INFLUX_URL } from './metrics-seed';
import { prepareStack, scriptArgs } from './lib/setup';

const API_KEY = 'bench-key';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://logway:logway@127.0.0.1:5432/logway_test';
const run = promisify(execFile);

const { values } = scriptArgs({
  usage: 'npx tsx bench/metrics-api.ts [--uncached 10] [--cached 2000] [--concurrent-seconds 10] [--cached-only]   (after bench/metrics-seed.ts)',
  about:
    'GET /apps/:app/metrics on the week bench/metrics-seed.ts wrote: p50/p99 uncached and cached at 30m, 10m and 1m, requests/s with 50 ' +
    'concurrent clients, and the same InfluxQL sent straight to InfluxDB with curl. The gateway runs in a child process.',
  options: {
    uncached: { type: 'string', default: '10', help: 'sequential uncached requests per resolution and variant' },
    cached: { type: 'string', default: '2000', help: 'sequential cached requests per resolution' },
    'concurrent-seconds': { type: 'string', default: '10', help: 'seconds of the concurrent run' },
    'cached-only': { type: 'boolean', help: 'only the cached figures' },
    serve: { type: 'string', help: 'internal: the gateway side, in the child process (JSON of the variants)' },
  },
  env: {
    BENCH_DATABASE_URL: 'PostgreSQL (postgres://logway:logway@127.0.0.1:5432/logway_test)',
    INFLUX_URL: 'InfluxDB (http://127.0.0.1:8086)',
    BENCH_INFLUX_DB: 'the seeded database (logway_bench)',
  },
  prints:
    'a Markdown table per resolution (uncached and cached p50/p99, InfluxDB direct with curl, body size, cached requests/s with 50 clients), ' +
    'the /healthz baseline, p50 per way of querying, and the uncached gateway under 50 concurrent clients.',
  needs: 'the seeded InfluxDB database (bench/metrics-seed.ts), curl, PostgreSQL (migrated here).',
});
const arg = (name: string): number => Number(values[name]);

// ---------------------------------------------------------------- server side (child process)

async function serve(): Promise<void> {
  const config = loadConfig({
    PORT: '0',
    INFLUX_URL,
    INFLUX_DB: BENCH_DB,
    INFLUX_TIMEOUT_MS: '120000',
    DATABASE_URL,
    API_KEYS: API_KEY,
    LOG_LEVEL: 'silent',
  });
  const core = createCore(config, { logger: createLogger('silent'), defaultMetrics: false });
  await core.apps.register(BENCH_APP);
  const ports: Record<string, number> = {};
  const variants: Record<string, MetricsFeatureOptions> = JSON.parse(String(values.serve));
  for (const [name, opts] of Object.entries(variants)) {
    const server = http.createServer(createApp(core, [createMetricsFeature(core, opts)]));
    server.keepAliveTimeout = 60000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports[name] = (server.address() as AddressInfo).port;
  }
  process.send!({ ports });
}

// ---------------------------------------------------------------- client side

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(port: number, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { Authorization: API_KEY } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
  });
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function timeSequential(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

async function concurrent(clients: number, seconds: number, fn: (i: number) => Promise<{ status: number }>) {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const lat: number[] = [];
  const started = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const t = process.hrtime.bigint();
        const r = await fn(c * 1_000_000 + i);
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (r.status === 200) done++;
        else failed++;
      }
    }),
  );
  return { rps: done / ((Date.now() - started) / 1000), done, failed, p50: q(lat, 50), p99: q(lat, 99) };
}

/** The statements the gateway sends for one uncached request, sent by curl; returns curl's time_total (ms,
 * without curl's own start-up). Parallel transport: every request at once, the floor is the slowest. */
async function curlFloor(statements: string[], params: Record<string, string>, parallel: boolean): Promise<number> {
  const send = async (q: string) => {
    const form = new URLSearchParams({ db: BENCH_DB, q, epoch: 's', params: JSON.stringify(params) }).toString();
    const { stdout } = await run(
      'curl',
      [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{time_total}',
        '-XPOST',
        `${INFLUX_URL}/query`,
        '--data-binary',
        form,
        '-H',
        'Content-Type: application/x-www-form-urlencoded',
      ],
      { maxBuffer: 1 << 20 },
    );
    return Number(stdout) * 1000;
  };
  if (!parallel) return send(statements.join('; '));
  return Math.max(...(await Promise.all(statements.map(send))));
}

interface Res {
  label: string;
  resolution: string;
  seconds: number;
  from: number;
  to: number;
}

async function main() {
  const nUncached = arg('uncached');
  const nCached = arg('cached');
  const concurrentSeconds = arg('concurrent-seconds');
  const cachedOnly = values['cached-only'] === true;
  await prepareStack({ databaseUrl: DATABASE_URL });
  const influx = createInflux({ url: INFLUX_URL, db: BENCH_DB, timeoutMs: 60000 });
  const [meta] = await influx.query('SELECT LAST("to") AS "to", LAST("from") AS "from" FROM bench_meta WHERE app = $app', { app: BENCH_APP });
  influx.close();
  if (!meta.series) throw new Error('no benchmark data: run npx tsx bench/metrics-seed.ts first');
  const [, end] = meta.series[0].values[0] as [number, number, number];
  const resolutions: Res[] = [
    { label: '30m (7 d, 336 buckets)', resolution: '30m', seconds: 1800, from: end - 7 * 86400, to: end },
    { label: '10m (6.9 d, 1000 buckets)', resolution: '10m', seconds: 600, from: end - 1000 * 600, to: end },
    { label: '1m (16.7 h, 1000 buckets)', resolution: '1m', seconds: 60, from: end - 1000 * 60, to: end },
  ];
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const path = (r: Res, shift = 0) =>
    `/apps/${BENCH_APP}/metrics?resolution=${r.resolution}&from=${iso(r.from - shift * r.seconds)}&to=${iso(r.to - shift * r.seconds)}`;

  const variants: Record<string, MetricsFeatureOptions> = {
    default: { cache: false },
    cached: {},
    'node/kind/batch': { cache: false, aggregation: 'node', plan: 'kind', transport: 'batch' },
    'node/metric/batch': { cache: false, aggregation: 'node', plan: 'metric', transport: 'batch' },
    'node/kind/parallel': { cache: false, aggregation: 'node', plan: 'kind', transport: 'parallel' },
    'influx/kind/parallel': { cache: false, aggregation: 'influx', plan: 'kind', transport: 'parallel' },
  };
  const child: ChildProcess = fork(__filename, ['--serve', JSON.stringify(variants)], { stdio: 'inherit' });
  const { ports } = await new Promise<{ ports: Record<string, number> }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { ports: Record<string, number> }));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  try {
    console.log(`data: ${BENCH_APP} in ${BENCH_DB}, week ending ${iso(end)}; node ${process.version}; ${new Date().toISOString()}`);
    const d = METRICS_DEFAULTS;
    console.log(
      `default gateway: aggregation ${d.aggregation}, plan ${d.plan}, transport ${d.transport} (see docs/metrics.md); the curl floor sends the same statements the same way\n`,
    );

    // Phase 1, uncached: the gateway and the same statements straight to InfluxDB, interleaved so that the other
    // load on this shared machine weighs on both alike. Phase 2, cached, after a warm-up, so that the garbage of
    // phase 1's large InfluxDB answers is not collected in the middle of the cached timings.
    const rows: string[][] = [];
    for (const r of resolutions) {
      const first = await get(ports.default, path(r));
      if (first.status !== 200) throw new Error(`status ${first.status} for ${path(r)}`);
      const params = seriesParams(BENCH_APP, r.from, r.to, r.seconds);
      const statements = buildSeriesStatements(METRICS_DEFAULTS.plan, 'mean', r.seconds, METRICS_DEFAULTS.aggregation);
      const unc: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < (cachedOnly ? 0 : nUncached); i++) {
        unc.push(...(await timeSequential(1, () => get(ports.default, path(r)))));
        floor.push(await curlFloor(statements, params, METRICS_DEFAULTS.transport === 'parallel'));
      }
      rows.push([
        r.label,
        `${ms(q(unc, 50))} / ${ms(q(unc, 99))}`,
        ms(q(floor, 50)),
        `${(q(unc, 50) / q(floor, 50)).toFixed(2)}×`,
        `${(first.bytes / 1024).toFixed(0)} KiB`,
      ]);
    }
    for (const [i, r] of resolutions.entries()) {
      await timeSequential(1000, () => get(ports.cached, path(r))); // fills the cache, warms up
      const cached = await timeSequential(nCached, () => get(ports.cached, path(r)));
      const c50 = await concurrent(50, concurrentSeconds, () => get(ports.cached, path(r)));
      console.log(
        `  cached ${r.resolution}: p50 ${ms(q(cached, 50))}, p90 ${ms(q(cached, 90))}, p95 ${ms(q(cached, 95))}, p99 ${ms(q(cached, 99))}, max ${ms(Math.max(...cached))} ms`,
      );
      rows[i].push(`${ms(q(cached, 50))} / ${ms(q(cached, 99))}`, `${c50.rps.toFixed(0)} (p50 ${ms(c50.p50)}, p99 ${ms(c50.p99)} ms, ${c50.failed} failed)`);
    }
    console.log('| resolution | uncached p50 / p99 ms | InfluxDB direct (curl) p50 ms | ratio p50 | body | cached p50 / p99 ms | cached req/s, 50 clients |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    // What this machine allows any request: the cheapest route on the same server, measured the same way.
    await timeSequential(200, () => get(ports.cached, '/healthz'));
    const base = await timeSequential(nCached, () => get(ports.cached, '/healthz'));
    console.log(`baseline GET /healthz on the same server: p50 ${ms(q(base, 50))} / p99 ${ms(q(base, 99))} ms`);
    if (cachedOnly) return;
    console.log('\nround trips and where the across-instances step runs (30m, a week; uncached, sequential):');
    const r30 = resolutions[0];
    const params = seriesParams(BENCH_APP, r30.from, r30.to, r30.seconds);
    for (const name of ['default', 'node/kind/batch', 'node/kind/parallel', 'node/metric/batch', 'influx/kind/parallel']) {
      const lat = await timeSequential(Math.max(3, Math.ceil(nUncached / 2)), () => get(ports[name], path(r30)));
      console.log(`  ${name.padEnd(22)} p50 ${ms(q(lat, 50))} ms  (min ${ms(Math.min(...lat))}, max ${ms(Math.max(...lat))})`);
    }
    const floorBatch: number[] = [];
    for (let i = 0; i < 3; i++) floorBatch.push(await curlFloor(buildSeriesStatements('kind', 'mean', 1800, 'node'), params, false));
    console.log(`  curl, gauges and counters statements in one request: p50 ${ms(q(floorBatch, 50))} ms`);

    console.log('\n50 concurrent clients, uncached gateway (cache off):');
    const r1 = resolutions[2];
    const same = await concurrent(50, concurrentSeconds, () => get(ports.default, path(r1)));
    console.log(
      `  identical 1m requests (concurrent misses share one InfluxDB read): ${same.rps.toFixed(1)} req/s, p50 ${ms(same.p50)} ms, p99 ${ms(same.p99)} ms`,
    );
    const distinct = await concurrent(50, concurrentSeconds, (i) => get(ports.default, path(r1, (i % 997) + 1)));
    console.log(
      `  distinct 1m ranges (every request reads InfluxDB): ${distinct.rps.toFixed(2)} req/s, p50 ${ms(distinct.p50)} ms, p99 ${ms(distinct.p99)} ms, ${distinct.done} answered 200, ${distinct.failed} not (503 at the 120 s bench timeout)`,
    );
  } finally {
    child.kill('SIGTERM');
    agent.destroy();
  }
}

if (values.serve !== undefined) {
  serve().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
