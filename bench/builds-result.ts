/**
 * The 100,000-line build: ingest through Kafka into PostgreSQL, then GET .../builds/:id/result over real
 * HTTP — time to first byte, total time, body size, and RSS while streaming.
 *
 *   npx tsx bench/builds-result.ts [lines=100000] [runs=5]
 *
 * Uses the local stack (scripts/stack) and the logway_test database; a fresh topic, group, app and build each run.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { loadConfig } from '../lib/config';
import { createCore, closeCore } from '../lib/core';
import { createLogger } from '../lib/logger';
import { createApp } from '../bin/wiring';
import { createBuildsFeature } from '../lib/builds/feature';
import { prepareStack, scriptArgs } from './lib/setup';

const { positionals } = scriptArgs({
  usage: 'npx tsx bench/builds-result.ts [lines] [runs]   (defaults 100000 and 5)',
  about:
    'A build of `lines` lines ingested through Kafka into PostgreSQL, then GET .../builds/:id/result over real HTTP `runs` times. ' +
    'A fresh topic, group, app and build each run; the build is deleted at the end.',
  env: {
    BENCH_DATABASE_URL: 'PostgreSQL (postgres://logway:logway@127.0.0.1:5432/logway_test)',
    BENCH_KEEP: '1 keeps the build',
    KAFKA_BROKERS: 'the brokers (127.0.0.1:9092)',
  },
  prints:
    'the ingest time and lines/s end to end; the result checked once; time to first byte and total time (median, min, max), MB/s; RSS before and at peak.',
  needs: 'Kafka, PostgreSQL (migrated here).',
});
const LINES = Number(positionals[0] ?? 100_000);
const RUNS = Number(positionals[1] ?? 5);
if (!(LINES > 0) || !(RUNS > 0)) {
  console.error('lines and runs are positive numbers (--help)');
  process.exit(2);
}
const KEY = 'bench-key';

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function line(i: number): string {
  // About one line in ten is Docker noise the result strips.
  if (i % 10 === 0) return ` ---> ${crypto.createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}`;
  if (i % 10 === 5) return `Step ${i}/${LINES} : RUN npm run build -- --chunk ${i}`;
  return `[${String(i).padStart(6, '0')}] webpack: compiled module ./src/components/widget-${i % 977}.tsx (${(i * 37) % 9000} bytes)`;
}

async function main(): Promise<void> {
  const rand = crypto.randomBytes(3).toString('hex');
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://logway:logway@127.0.0.1:5432/logway_test',
    API_KEYS: KEY,
    LOG_LEVEL: 'silent',
  });
  await prepareStack({ databaseUrl: config.databaseUrl });
  const core = createCore(config, { logger: createLogger('silent'), defaultMetrics: false });
  const topic = `benchbuilds${rand}`;
  const appKey = `benchapp${rand}-benchsp${rand}`;
  const buildId = crypto.randomUUID();
  await core.kafka.createTopic(topic, 1);

  console.log(`builds bench: ${LINES} lines, ${RUNS} result runs, node ${process.version}`);
  // Ingest: produce every line, then time until the consumer has stored them all.
  const feature = createBuildsFeature(core, { topic, groupId: `bench-${rand}` });
  await feature.start!();
  const t0 = Date.now();
  const BATCH = 1000; // keeps each produce request under the broker's 1 MB message.max.bytes
  for (let i = 0; i < LINES; i += BATCH) {
    const msgs = [];
    for (let j = i; j < Math.min(LINES, i + BATCH); j++) {
      msgs.push({ key: buildId, value: JSON.stringify({ build: buildId, job: '1', message: line(j), metadata: appKey }) });
    }
    await core.kafka.produce(topic, msgs);
  }
  await core.kafka.produce(topic, [{ key: buildId, value: JSON.stringify({ build: buildId, job: '1', message: 'Finished: SUCCESS', metadata: appKey }) }]);
  const produced = Date.now();
  for (;;) {
    const rows = await core.db.query<{ n: string }>('SELECT count(*)::text AS n FROM build_lines WHERE build_id = $1', [buildId]);
    if (Number(rows[0].n) >= LINES + 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const stored = Date.now();
  console.log(
    `ingest: produced in ${produced - t0} ms; all ${LINES + 1} stored ${stored - t0} ms after the first send (${Math.round((LINES + 1) / ((stored - t0) / 1000))} lines/s end to end)`,
  );

  const server = http.createServer(createApp(core, [feature]));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  const ttfb: number[] = [];
  const total: number[] = [];
  let peakRss = 0;
  let bytes = 0;
  const rssBefore = process.memoryUsage().rss;
  for (let run = 0; run < RUNS; run++) {
    global.gc?.();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
    const start = process.hrtime.bigint();
    let first = 0;
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      http
        .get({ port, host: '127.0.0.1', path: `/apps/${appKey}/builds/${buildId}/result`, headers: { Authorization: KEY } }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
          res.on('data', (c: Buffer) => {
            if (!first) first = Number(process.hrtime.bigint() - start) / 1e6;
            // The first run keeps the body to check it; later runs only time the stream.
            if (run === 0) chunks.push(c);
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    const end = Number(process.hrtime.bigint() - start) / 1e6;
    clearInterval(sampler);
    ttfb.push(first);
    total.push(end);
    if (run === 0) {
      const body = Buffer.concat(chunks);
      bytes = body.length;
      const parsed = JSON.parse(body.toString('utf8')) as { build: { status: string }; lines: string[] };
      const expected = Array.from({ length: LINES }, (_, i) => i).filter((i) => i % 10 !== 0).length + 1;
      if (parsed.lines.length !== expected || parsed.build.status !== 'succeeded') {
        throw new Error(`unexpected result: ${parsed.lines.length} lines (want ${expected}), status ${parsed.build.status}`);
      }
      console.log(`result: ${parsed.lines.length} lines after stripping, ${mb(bytes)} MB of JSON, status ${parsed.build.status}`);
    }
  }
  console.log(
    `result over HTTP (${RUNS} runs): time to first byte median ${median(ttfb).toFixed(1)} ms (min ${Math.min(...ttfb).toFixed(1)}, max ${Math.max(...ttfb).toFixed(1)})`,
  );
  console.log(
    `result over HTTP (${RUNS} runs): total median ${median(total).toFixed(0)} ms (min ${Math.min(...total).toFixed(0)}, max ${Math.max(...total).toFixed(0)}), ${mb(bytes / (median(total) / 1000))} MB/s`,
  );
  console.log(
    `process RSS (server and client in one process): ${mb(rssBefore)} MB before, peak ${mb(peakRss)} MB while streaming (+${mb(peakRss - rssBefore)} MB; the body is ${mb(bytes)} MB)`,
  );

  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await feature.stop!();
  if (process.env.BENCH_KEEP !== '1') await core.db.query('DELETE FROM builds WHERE id = $1', [buildId]);
  await closeCore(core);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
