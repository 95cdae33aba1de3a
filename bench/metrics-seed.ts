/** Seeds the metrics benchmark: one week of 10-second samples for 10 instances × 2 process types × 13 metrics
 * (15.7 M points) for app `bench-perf` into the InfluxDB database `logway_bench`, through lib/influx.
 *
 *   npx tsx bench/metrics-seed.ts [--days 7] [--instances 10]
 *
 * Idempotent: the points are a pure function of (instance, time), and the week ends at a 10-minute boundary
 * recorded in the database (measurement bench_meta), so a rerun on the same day rewrites the same points. */
import { createInflux } from '../lib/influx';
import { instancesFor, writeSamples } from '../scripts/sample-metrics';
import { prepareStack, scriptArgs } from './lib/setup';

export const BENCH_DB = process.env.BENCH_INFLUX_DB ?? 'logway_bench';
export const BENCH_APP = 'bench-perf';
export const INFLUX_URL = process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';

async function main() {
  const { values } = scriptArgs({
    usage: 'npx tsx bench/metrics-seed.ts [--days 7] [--instances 10]',
    about: `Seeds bench/metrics-api.ts: 10-second samples of 13 metrics for ${BENCH_APP}, per instance of 2 process types, into InfluxDB. Idempotent on the same day; a week takes about 2 minutes.`,
    options: {
      days: { type: 'string', default: '7', help: 'days of samples, ending at the last 10-minute boundary' },
      instances: { type: 'string', default: '10', help: 'instances per process type' },
    },
    env: { INFLUX_URL: 'InfluxDB (http://127.0.0.1:8086)', BENCH_INFLUX_DB: 'the database (logway_bench)' },
    prints: 'the number of points to write, progress every million points, then points/s and the time range.',
    needs: 'InfluxDB (the database is created here).',
  });
  const days = Number(values.days);
  const perType = Number(values.instances);
  if (!(days > 0) || !(perType > 0)) throw new Error('--days and --instances are positive numbers');
  await prepareStack({ influx: { url: INFLUX_URL, databases: [BENCH_DB] } });
  const influx = createInflux({ url: INFLUX_URL, db: BENCH_DB, timeoutMs: 120000 });
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
