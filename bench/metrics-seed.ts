/** Seeds the metrics benchmark: one week of 10-second samples for 10 instances × 2 process types × 13 metrics
 * (15.7 M points) for app `bench-perf` into the InfluxDB database `logway_bench`, through lib/influx.
 *
 *   npx tsx bench/metrics-seed.ts [--days 7] [--instances 10]
 *
 * Idempotent: the points are a pure function of (instance, time), and the week ends at a 10-minute boundary
 * recorded in the database (measurement bench_meta), so a rerun on the same day rewrites the same points. */
import { createInflux } from '../lib/influx';
import { instancesFor, writeSamples } from '../scripts/sample-metrics';

export const BENCH_DB = process.env.BENCH_INFLUX_DB ?? 'logway_bench';
export const BENCH_APP = 'bench-perf';
export const INFLUX_URL = process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main() {
  const days = arg('days', 7);
  const perType = arg('instances', 10);
  const influx = createInflux({ url: INFLUX_URL, db: BENCH_DB, timeoutMs: 120000 });
  await influx.query(`CREATE DATABASE ${BENCH_DB}`);
  const end = Math.floor(Date.now() / 1000 / 600) * 600;
  const from = end - days * 86400;
  const instances = instancesFor(BENCH_APP, perType);
  const total = Math.ceil((end - from) / 10) * instances.length * 13;
  console.log(`seeding ${total} points (${days} d × ${instances.length} instances × 13 metrics every 10 s) for ${BENCH_APP} into ${BENCH_DB}`);
  const started = Date.now();
  let last = 0;
  const n = await writeSamples(influx, {
    appKey: BENCH_APP,
    instances,
    from,
    to: end,
    interval: 10,
    batch: 10000,
    concurrency: 3,
    onProgress(w) {
      if (w - last >= 1_000_000) {
        last = w;
        const s = (Date.now() - started) / 1000;
        console.log(`  ${w} points, ${s.toFixed(0)} s, ${(w / s).toFixed(0)} points/s`);
      }
    },
  });
  await influx.writePoints([{ measurement: 'bench_meta', tags: { app: BENCH_APP }, fields: { from, to: end, instances: instances.length }, timestamp: end }]);
  const s = (Date.now() - started) / 1000;
  console.log(
    `seeded ${n} points in ${s.toFixed(1)} s (${(n / s).toFixed(0)} points/s); range ${new Date(from * 1000).toISOString()} .. ${new Date(end * 1000).toISOString()}`,
  );
  influx.close();
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
