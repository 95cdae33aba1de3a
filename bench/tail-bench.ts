/**
 * Tail benchmarks against the real local Kafka (issue 3). Not a test: it prints figures.
 *
 *   npx tsx bench/tail-bench.ts [latency|consume|rss|history|all]
 *
 * Knobs (env): RATE (lines/s, 20000), APPS (100), SESSIONS (1000), DURATION (s, 20),
 * RSS_SESSIONS (5000), HISTORY_REQUESTS (300), CONSUME_MESSAGES (300000); LEAN_STREAMS=0 serves the stream
 * URL through Express as before issue 10 item 6 (bench/tail-server.ts reads it).
 *
 * The logway node runs as a child process (bench/tail-server.ts) so its CPU and RSS are its own;
 * this process produces to Kafka and plays the clients. Latency = client receive time minus the
 * time stamped into the message just before it was handed to the producer (same machine clock).
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { closeCore } from '../lib/core';
import { TailHub, HubOptions } from '../lib/tail/hub';
import { testConfig, uniqueName } from '../spec/helpers/env';
import { Histogram } from './lib/histogram';
import { brokerPid, cpuSeconds, ownRssBytes, sleep } from './lib/proc';
import { prepareStack, scriptArgs } from './lib/setup';
import { CLIENT_WORKER } from './lib/sse-clients';
import { message, metric, newCore, post, registerApps, startServer } from './lib/tail-node';

const MODES = ['latency', 'consume', 'rss', 'history', 'all'];
const { positionals } = scriptArgs({
  usage: `npx tsx bench/tail-bench.ts [${MODES.join('|')}]   (default all)`,
  about:
    'Tail benchmarks against the local Kafka, the logway node (bench/tail-server.ts) in a child process: ' +
    "produce → SSE client latency, the hub's consume rate beside kcat, RSS per open session, history requests. Not a test.",
  env: {
    RATE: 'latency: lines/s produced (20000)',
    APPS: 'apps the lines are spread over (100)',
    SESSIONS: 'latency: SSE sessions open (1000)',
    DURATION: 'latency: seconds (20)',
    RSS_SESSIONS: 'rss: idle sessions opened (5000)',
    HISTORY_REQUESTS: 'history: 250-line requests (300)',
    CONSUME_MESSAGES: 'consume: messages produced (300000)',
    CONSUME_TOPIC: 'consume: read this existing topic instead of producing one',
    'KCAT_ROUNDS, HUB_ROUNDS': 'consume: rounds of each (3, 3)',
    HUB_OPTS: `JSON hub options, e.g. '{"fetchMaxBytes":33554432}'`,
    SERVER_NODE_ARGS: 'node flags for the tail server',
    'LEAN_STREAMS, STAGES, FLUSH_MS, SESSION_BUFFER_LINES, BARE_ROUTER': 'read by bench/tail-server.ts',
    'KAFKA_BROKERS, TEST_DATABASE_URL, TEST_INFLUX_DB': 'the stack (local defaults)',
  },
  prints: 'per mode: lines/s, delivered and dropped session-lines, latency p50/p99/max, CPU and RSS of the node, the broker and the bench.',
  needs: 'Kafka, PostgreSQL (the test database, migrated here), InfluxDB (its test database, created here); kcat for consume.',
});
const mode = positionals[0] ?? 'all';
if (!MODES.includes(mode)) {
  console.error(`unknown mode ${mode}: one of ${MODES.join(', ')} (--help)`);
  process.exit(2);
}

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const RATE = env('RATE', 20000);
const APPS = env('APPS', 100);
const SESSIONS = env('SESSIONS', 1000);
const DURATION = env('DURATION', 20);
const RSS_SESSIONS = env('RSS_SESSIONS', 5000);
const HISTORY_REQUESTS = env('HISTORY_REQUESTS', 300);
const CONSUME_MESSAGES = env('CONSUME_MESSAGES', 300000);
/** consume: kcat and hub rounds (profiling: KCAT_ROUNDS=0), and an existing topic to read instead of producing a new one. */
const KCAT_ROUNDS = env('KCAT_ROUNDS', 3);
const HUB_ROUNDS = env('HUB_ROUNDS', 3);
const CONSUME_TOPIC = process.env.CONSUME_TOPIC;
const BROKER = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
/** Hub options for experiments (consume here; latency passes it to bench/tail-server.ts), e.g. HUB_OPTS='{"fetchMaxBytes":33554432}'. */
const HUB_OPTS = JSON.parse(process.env.HUB_OPTS ?? '{}') as HubOptions;

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const rssKb = (pid: number) => ownRssBytes(pid) / 1024;

// ---------------------------------------------------------------------------------------------

async function latency(): Promise<void> {
  console.log(`\n== latency: ${RATE} lines/s over ${APPS} apps, ${SESSIONS} SSE sessions, ${DURATION} s ==`);
  const core = newCore();
  const space = uniqueName('benchtail');
  await core.kafka.createTopic(space, 3);
  const apps = Array.from({ length: APPS }, (_, i) => `a${i}b${space.slice(-4)}`);
  await registerApps(
    core,
    apps.map((a) => `${a}-${space}`),
  );
  const server = await startServer(space);
  try {
    const urls: string[] = [];
    for (const app of apps) urls.push((await post(server.port, `/apps/${app}-${space}/log-sessions`, { lines: 1, tail: true })).body.logplex_url);
    // The clients run on their own thread so that reading 1000 streams does not queue behind the producer.
    const clients = new Worker(CLIENT_WORKER, { eval: true, workerData: { urls, sessions: SESSIONS } });
    const call = (msg: string) =>
      new Promise<{ open?: number; received?: number; buckets?: Uint32Array; count?: number; max?: number; busy?: number }>((resolve) => {
        clients.once('message', resolve);
        clients.postMessage(msg);
      });
    const { open } = await call('open');
    console.log(`${open} sessions open; server RSS ${(rssKb(server.pid) / 1024).toFixed(0)} MB`);
    const cpu0 = cpuSeconds(server.pid);
    const own0 = process.cpuUsage();
    const broker = brokerPid();
    const broker0 = broker ? cpuSeconds(broker) : 0;
    let produced = 0;
    let seq = 0;
    let inflight = 0;
    const tickMs = 10;
    const perTick = RATE / (1000 / tickMs);
    const start = Date.now();
    let late = 0;
    let carry = 0;
    let measuring = false;
    let maxLag = 0;
    const lagTimer = setInterval(() => {
      metric(server.port, 'logway_tail_hub_lag').then(
        (l) => (maxLag = Math.max(maxLag, l)),
        () => undefined,
      );
    }, 1000);
    for (let t = 0; Date.now() - start < DURATION * 1000; t++) {
      if (!measuring && Date.now() - start > 3000) {
        measuring = true;
        clients.postMessage('measure');
      }
      carry += perTick;
      const n = Math.floor(carry);
      carry -= n;
      if (inflight < 20) {
        const byApp = new Map<string, { key: string; value: string }[]>();
        for (let i = 0; i < n; i++) {
          const app = apps[seq % APPS];
          const now = Date.now();
          const list = byApp.get(app) ?? [];
          list.push({ key: app, value: message(app, space, `bench seq=${seq} t=${now}`) });
          byApp.set(app, list);
          seq++;
        }
        const records = [...byApp.values()].flat();
        inflight++;
        core.kafka.produce(space, records).then(
          () => {
            inflight--;
            produced += records.length;
          },
          () => inflight--,
        );
      } else late += n;
      const next = start + (t + 1) * tickMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
    }
    const elapsed = (Date.now() - start) / 1000;
    clearInterval(lagTimer);
    while (inflight > 0) await sleep(10);
    await sleep(3000);
    const cpu = cpuSeconds(server.pid) - cpu0;
    const own = process.cpuUsage(own0);
    const brokerCpu = broker ? cpuSeconds(broker) - broker0 : NaN;
    const expected = produced * (SESSIONS / APPS);
    const report = await call('report');
    const received = report.received!;
    const hist = Histogram.from(report.buckets!, report.count!, report.max!);
    const dropped = await metric(server.port, 'logway_tail_lines_dropped_total');
    console.log(
      `produced ${produced} lines in ${elapsed.toFixed(1)} s = ${(produced / elapsed).toFixed(0)} lines/s (skipped by the producer for backpressure: ${late})`,
    );
    console.log(`delivered ${received} of ${expected} session-lines (${((100 * received) / expected).toFixed(2)}%), dropped (L11) ${dropped}`);
    console.log(`produce->client latency after 3 s warm-up: ${hist.summary()}`);
    console.log(
      `CPU over the run: bench (producer + clients) ${((own.user + own.system) / 1e6 / elapsed).toFixed(2)} cores (client thread busy ${(100 * (report.busy ?? NaN)).toFixed(0)} % after the warm-up), broker ${(brokerCpu / elapsed).toFixed(2)} cores; load ${os.loadavg()[0].toFixed(2)}`,
    );
    console.log(
      `server CPU ${(cpu / elapsed).toFixed(2)} cores, RSS ${(rssKb(server.pid) / 1024).toFixed(0)} MB; hub lag (sampled each second, max): ${maxLag} messages`,
    );
    await clients.terminate();
  } finally {
    await server.stop();
    await closeCore(core);
  }
}

async function consume(): Promise<void> {
  console.log(`\n== consume rate: ${CONSUME_MESSAGES} app-log messages, hub vs kcat ==`);
  const core = newCore();
  const space = CONSUME_TOPIC ?? uniqueName('benchconsume');
  if (!CONSUME_TOPIC) await core.kafka.createTopic(space, 3);
  const apps = Array.from({ length: APPS }, (_, i) => `c${i}d${space.slice(-4)}`);
  const batch = 1000;
  const t0 = Date.now();
  for (let i = 0; !CONSUME_TOPIC && i < CONSUME_MESSAGES; i += batch * 4) {
    await Promise.all(
      [0, 1, 2, 3].map((k) => {
        const from = i + k * batch;
        const n = Math.min(batch, CONSUME_MESSAGES - from);
        if (n <= 0) return Promise.resolve();
        return core.kafka.produce(
          space,
          Array.from({ length: n }, (_, j) => {
            const app = apps[(from + j) % APPS];
            return { key: app, value: message(app, space, `GET /api/v1/items/${from + j} 200 12ms bytes=5123 request_id=${from + j}`) };
          }),
        );
      }),
    );
  }
  const total = (await core.kafka.partitionOffsets(space)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  console.log(
    `${CONSUME_TOPIC ? 'read' : 'produced'} ${total} messages (topic ${space}) in ${((Date.now() - t0) / 1000).toFixed(1)} s; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const kcatRuns: number[] = [];
  for (let r = 0; r < KCAT_ROUNDS; r++) {
    const s = process.hrtime.bigint();
    const out = spawnSync('kcat', ['-C', '-b', BROKER, '-t', space, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (out.error) throw out.error;
    kcatRuns.push(Number(process.hrtime.bigint() - s) / 1e9);
  }
  const kcatBest = Math.min(...kcatRuns);
  console.log(`kcat: ${kcatRuns.map((s) => s.toFixed(2)).join(' / ')} s → best ${(total / kcatBest).toFixed(0)} msgs/s`);

  const hubRuns: number[] = [];
  const steadyRuns: number[] = [];
  const cpuRuns: number[] = [];
  for (let r = 0; r < HUB_ROUNDS; r++) {
    const hubCore = newCore();
    const hub = new TailHub(hubCore, {
      ...HUB_OPTS,
      reading: 'every-topic',
      topicFilter: (t) => t === space,
      initialPosition: 'earliest',
      topicPollMs: 60_000,
    });
    const s = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await hub.start();
    let first = 0n;
    let firstCount = 0;
    for (;;) {
      const done = [...hub.snapshot([space]).values()].reduce((a, b) => a + b, 0);
      if (done > 0 && first === 0n) {
        first = process.hrtime.bigint();
        firstCount = done;
      }
      if (done >= total) break;
      // A short timer, not setImmediate: a busy poll would compete with the hub for its thread.
      await sleep(2);
    }
    const end = process.hrtime.bigint();
    const cpu = process.cpuUsage(cpu0);
    cpuRuns.push((cpu.user + cpu.system) / total);
    hubRuns.push(Number(end - s) / 1e9);
    steadyRuns.push((total - firstCount) / (Number(end - first) / 1e9));
    await hub.stop();
    await closeCore(hubCore);
  }
  const hubBest = Math.min(...hubRuns);
  const steadyBest = Math.max(...steadyRuns);
  console.log(
    `hub, start to last line (list topics, join, seek, consume + parse + rings): ${hubRuns.map((s) => s.toFixed(2)).join(' / ')} s → best ${(total / hubBest).toFixed(0)} lines/s`,
  );
  console.log(`hub, steady state (first batch to last line): ${steadyRuns.map((r) => r.toFixed(0)).join(' / ')} lines/s → best ${steadyBest.toFixed(0)}`);
  console.log(
    `hub CPU per line (this process, all threads): ${cpuRuns.map((c) => c.toFixed(2)).join(' / ')} µs; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `ratio hub/kcat: ${(kcatBest / hubBest).toFixed(2)} (start to end, both including connect), ${(steadyBest / (total / kcatBest)).toFixed(2)} (hub steady state vs kcat end to end)`,
  );
  await closeCore(core);
}

async function rss(): Promise<void> {
  console.log(`\n== RSS per open session: ${RSS_SESSIONS} idle SSE tail sessions ==`);
  const core = newCore();
  const space = uniqueName('benchrss');
  await core.kafka.createTopic(space, 3);
  const app = `r${space.slice(-6)}`;
  await registerApps(core, [`${app}-${space}`]);
  await core.kafka.produce(space, [{ key: app, value: message(app, space, 'hello') }]);
  const server = await startServer(space, { BARE_ROUTER: process.env.BARE_ROUTER ?? '' });
  const reqs: http.ClientRequest[] = [];
  try {
    const url = (await post(server.port, `/apps/${app}-${space}/log-sessions`, { lines: 1, tail: true })).body.logplex_url;
    const openN = (n: number) =>
      new Promise<void>((resolve) => {
        let open = 0;
        for (let i = 0; i < n; i++) {
          const req = http.get(url, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
            res.resume();
            if (++open === n) resolve();
          });
          req.on('error', () => undefined);
          reqs.push(req);
        }
      });
    await openN(50); // warm code paths
    await sleep(2000);
    const m0 = await server.memory();
    const before = rssKb(server.pid);
    const opened = Date.now();
    for (let i = 0; i < RSS_SESSIONS; i += 500) await openN(Math.min(500, RSS_SESSIONS - i));
    const openMs = Date.now() - opened;
    await sleep(3000);
    const m1 = await server.memory();
    const after = rssKb(server.pid);
    const active = await metric(server.port, 'logway_tail_sessions_active');
    console.log(`sessions active ${active}; opened ${RSS_SESSIONS} in ${openMs} ms`);
    console.log(
      `server RSS ${(before / 1024).toFixed(1)} MB → ${(after / 1024).toFixed(1)} MB: ${((after - before) / RSS_SESSIONS).toFixed(1)} KB per session (RSS after a forced GC)`,
    );
    const per = (k: 'heapUsed' | 'external' | 'arrayBuffers' | 'rss') => ((m1[k] - m0[k]) / 1024 / RSS_SESSIONS).toFixed(1);
    console.log(`per session after GC: JS heap ${per('heapUsed')} KB, external ${per('external')} KB (the rest of RSS is sockets and allocator slack)`);
  } finally {
    reqs.forEach((r) => r.destroy());
    await server.stop();
    await closeCore(core);
  }
}

async function history(): Promise<void> {
  console.log(`\n== history: ${HISTORY_REQUESTS} sequential 250-line history requests ==`);
  const core = newCore();
  const space = uniqueName('benchhist');
  await core.kafka.createTopic(space, 3);
  const app = `h${space.slice(-6)}`;
  const key = `${app}-${space}`;
  await registerApps(core, [key]);
  // 2,000 lines of this app among 18,000 of 9 others in the same space.
  for (let i = 0; i < 20000; i += 1000) {
    await core.kafka.produce(
      space,
      Array.from({ length: 1000 }, (_, j) => {
        const n = i + j;
        const a = n % 10 === 0 ? app : `o${n % 10}x${space.slice(-4)}`;
        return { key: a, value: message(a, space, `GET /items/${n} 200 12ms`) };
      }),
    );
  }
  const server = await startServer(space);
  try {
    const url = (await post(server.port, `/apps/${key}/log-sessions`, { lines: 250, tail: false })).body.logplex_url;
    const get = () =>
      new Promise<{ ms: number; lines: number }>((resolve, reject) => {
        const s = process.hrtime.bigint();
        http
          .get(url, { agent }, (res) => {
            let n = 0;
            res.setEncoding('utf8').on('data', (d: string) => {
              for (let i = d.indexOf('\n'); i >= 0; i = d.indexOf('\n', i + 1)) n++;
            });
            res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - s) / 1e6, lines: n }));
          })
          .on('error', reject);
      });
    const cold = await get();
    console.log(`cold node (ring filled from Kafka, 20,000 messages scanned): ${cold.ms.toFixed(1)} ms, ${cold.lines} lines`);
    const hist = new Histogram();
    for (let i = 0; i < HISTORY_REQUESTS; i++) {
      const r = await get();
      if (r.lines !== 250) throw new Error(`expected 250 lines, got ${r.lines}`);
      hist.add(r.ms);
    }
    console.log(`warm (from the ring): ${hist.summary()}`);
  } finally {
    await server.stop();
    await closeCore(core);
  }
}

async function main(): Promise<void> {
  const config = testConfig();
  await prepareStack({ databaseUrl: config.databaseUrl, influx: { url: config.influxUrl, token: config.influxToken, databases: [config.influxDb] } });
  console.log(
    `tail bench: mode=${mode}, node ${process.version}, ${os.cpus().length} CPUs (shared with the Kafka/PostgreSQL/InfluxDB stack and other engineers)`,
  );
  if (mode === 'consume' || mode === 'all') await consume();
  if (mode === 'history' || mode === 'all') await history();
  if (mode === 'rss' || mode === 'all') await rss();
  if (mode === 'latency' || mode === 'all') await latency();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
