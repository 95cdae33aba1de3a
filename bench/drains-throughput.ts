/**
 * Drain throughput (issue 4): lines/s from Kafka to a local TLS syslog sink and to an HTTPS sink, per
 * logway worker process, with its CPU and RSS; the same workload through rsyslog's own Kafka input
 * (imkafka → mmjsonparse → omfwd over TLS, octet-counted RFC5424) as the peer. Not a test.
 *
 *   npx tsx bench/drains-throughput.ts [logway-tls|logway-https|rsyslog|all]
 *
 * Knobs (env): LINES (200000), APPS (10), PARTITIONS (3), MESSAGE_BYTES (120),
 * WORKER_OPTS (JSON merged into the worker's DrainsOptions), WORKER_NODE_ARGS (node flags for the
 * worker), BENCH_PROF (dir for a CPU profile), DRAIN_WORKERS (0: the drain worker in the node's
 * process, as before; N: N drain worker processes under it). CPU and RSS are the node's and its
 * worker processes' together; "live" is the latency of GET /health/live on the node's own
 * process (every 20 ms during the run): what the HTTP side and the tail hub would see.
 *
 * The lines are produced first, in one Kafka transaction left open (the producer is not measured).
 * Then the worker (spec/helpers/drain-worker-process.ts, with its drain worker processes) or rsyslogd
 * starts as its own process, a fresh consumer group from the beginning of the topic; both read
 * committed only, so they see nothing yet. Once the group is Stable with every consumer (one per
 * worker process) holding partitions, and a second has passed, the CPU baselines are taken and the
 * transaction is committed: every line appears at once, and no process is starting up or joining
 * while it is measured. CPU is summed per pid, each from its baseline (/proc/<pid>/stat); a pid seen
 * only later (a worker process replaced mid-run) counts from its first sighting and is flagged, as is
 * one that vanished (its ticks after the last sample are lost). The sinks run in this process and
 * count frames. lines/s = lines / (last line received − first line received); CPU % is over the
 * window from the commit to the last line.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeCore, createCore, Core } from '../lib/core';
import { createLogger } from '../lib/logger';
import { DrainStore } from '../drains/store';
import { testConfig, uniqueName, REPO_ROOT } from '../spec/helpers/env';
import { makeTestCert, TestCert } from '../spec/helpers/test-cert';
import { measure, printResult, probeLive, Result } from './lib/drain-measure';
import { Sinks, startSinks } from './lib/frame-sinks';
import { produceGated, waitForGroup } from './lib/kafka-gate';
import { sleep } from './lib/proc';
import { prepareStack, scriptArgs } from './lib/setup';

const MODES = ['logway-tls', 'logway-https', 'rsyslog', 'all'];
const { positionals } = scriptArgs({
  usage: `npx tsx bench/drains-throughput.ts [${MODES.join('|')}]   (default all)`,
  about:
    'Drain throughput: lines/s from Kafka to a local TLS syslog sink and to an HTTPS sink through a logway drain worker, ' +
    "with its CPU and RSS, and the same workload through rsyslog's imkafka → omfwd TLS as the peer. Not a test.",
  env: {
    LINES: 'lines per run (200000)',
    APPS: 'apps, one drain each (10)',
    PARTITIONS: "partitions of each run's topic (3)",
    MESSAGE_BYTES: 'bytes of log text per line (120)',
    DRAIN_WORKERS: "0: the drain worker in the node's process; N: N drain worker processes (0)",
    WORKER_OPTS: "JSON merged into the worker's DrainsOptions",
    WORKER_NODE_ARGS: 'node flags for the worker',
    BENCH_PROF: 'a directory for a V8 CPU profile of the worker',
    KAFKA_BROKERS: 'the broker (127.0.0.1:9092)',
    TEST_DATABASE_URL: 'PostgreSQL (the logway_test database of the local stack)',
    TEST_INFLUX_DB: 'the InfluxDB database (logway_test)',
  },
  prints:
    'per run: lines/s, CPU seconds per process and µs/line, peak RSS, /health/live p50/p99/max, frames at the sink 2 s later; ' +
    'with all, the logway/rsyslog ratio.',
  needs: 'Kafka, PostgreSQL (the test database, migrated here), InfluxDB (its test database, created here); rsyslogd with imkafka for the rsyslog run.',
});
const which = positionals[0] ?? 'all';
if (!MODES.includes(which)) {
  console.error(`unknown run ${which}: one of ${MODES.join(', ')} (--help)`);
  process.exit(2);
}

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const LINES = env('LINES', 200_000);
const APPS = env('APPS', 10);
const PARTITIONS = env('PARTITIONS', 3);
const MESSAGE_BYTES = env('MESSAGE_BYTES', 120);
const BROKER = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const DRAIN_WORKERS = env('DRAIN_WORKERS', 0);

function appLog(app: string, space: string, i: number): string {
  const text = `GET /bench/${i} 200 ${'x'.repeat(Math.max(0, MESSAGE_BYTES - 20))}`.slice(0, MESSAGE_BYTES);
  return JSON.stringify({
    log: `${text}\n`,
    stream: 'stdout',
    time: new Date().toISOString(),
    docker: { container_id: '790e1f2a' },
    kubernetes: {
      namespace_name: space,
      pod_id: '5391',
      pod_name: `${app}-web-1562910588-d${i % 4}`,
      container_name: app,
      labels: { name: app },
      host: 'ip-10-0-0-1',
    },
    topic: space,
    tag: 'bench',
  });
}

async function startWorker(space: string, groupId: string, cert: TestCert): Promise<{ child: ChildProcess; httpPort: number }> {
  // BENCH_PROF=<dir>: a V8 CPU profile of the worker (written when it exits).
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  // WORKER_NODE_ARGS: extra node flags for the worker, e.g. --max-semi-space-size=64.
  const nodeArgs = (process.env.WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...prof, '--import', 'tsx', path.join(REPO_ROOT, 'spec', 'helpers', 'drain-worker-process.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEST_LOG_LEVEL: 'warn',
      DRAIN_WORKER_HTTP: '1',
      DRAIN_WORKER_CONFIG: JSON.stringify({
        processes: DRAIN_WORKERS,
        groupId,
        topics: [space],
        fromBeginning: true,
        tlsCa: cert.ca,
        ...JSON.parse(process.env.WORKER_OPTS ?? '{}'),
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });
  return { child, httpPort: Number(/^http (\d+)$/m.exec(out)![1]) };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** A fresh topic with LINES lines for APPS registered apps, produced in a transaction not yet committed. */
interface Workload {
  space: string;
  apps: string[];
  commit: () => Promise<void>;
}

async function prepare(core: Core): Promise<Workload> {
  const space = uniqueName('dbench');
  const apps = Array.from({ length: APPS }, (_, i) => `bench${i}x${uniqueName('')}`);
  await core.kafka.createTopic(space, PARTITIONS);
  for (const app of apps) await core.apps.register(`${app}-${space}`);
  const commit = await produceGated(BROKER, space, LINES, (j) => {
    const app = apps[j % apps.length];
    return { key: `${app}-${j % 4}`, value: appLog(app, space, j) };
  });
  return { space, apps, commit };
}

/** Lets the processes settle (JIT, first empty fetches) once the group is stable, before the baselines. */
const SETTLE_MS = 1000;

async function runLogway(kind: 'tls' | 'https', core: Core, store: DrainStore, work: Workload, sinks: Sinks, cert: TestCert): Promise<Result> {
  sinks.reset();
  const { space, apps } = work;
  const ids: string[] = [];
  for (const app of apps) {
    const url = kind === 'tls' ? `syslog+tls://localhost:${sinks.tlsPort}` : `https://localhost:${sinks.httpsPort}/drain`;
    ids.push((await store.create('app', `${app}-${space}`, url)).id);
  }
  const groupId = uniqueName('drains-bench-');
  const { child, httpPort } = await startWorker(space, groupId, cert);
  let live: () => Result['live'] = () => undefined;
  try {
    // Every process's consumer (one per drain worker process, or the one in-process) has joined and holds partitions.
    await waitForGroup(BROKER, groupId, Math.max(1, DRAIN_WORKERS), PARTITIONS);
    await sleep(SETTLE_MS);
    live = probeLive(httpPort);
    const label = `logway${DRAIN_WORKERS ? ` ×${DRAIN_WORKERS} process${DRAIN_WORKERS > 1 ? 'es' : ''}` : ''} → ${kind === 'tls' ? 'TLS syslog' : 'HTTPS'}`;
    const counter = () => (kind === 'tls' ? sinks.tls : sinks.https);
    const r = await measure(label, LINES, child.pid!, counter, work.commit);
    const liveFigures = live();
    // Lines delivered twice (a rebalance between worker processes re-reads what was not committed) arrive after the count is reached.
    await sleep(2000);
    return { ...r, live: liveFigures, framesLater: counter().count };
  } finally {
    live();
    await stopChild(child);
    await core.db.query('DELETE FROM log_drains WHERE id = ANY($1::uuid[])', [ids]);
  }
}

async function runRsyslog(work: Workload, sinks: Sinks, cert: TestCert): Promise<Result> {
  sinks.reset();
  const { space } = work;
  const groupId = uniqueName('rsyslog-bench-');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logway-rsyslog-bench-'));
  const conf = path.join(dir, 'rsyslog.conf');
  fs.mkdirSync(path.join(dir, 'work'));
  // The same job as a drain worker: read the topic, parse the Akkeris JSON, format RFC5424
  // (HOSTNAME = app-space, APP-NAME app, PROCID = pod), send octet-counted over TLS with a verified cert.
  fs.writeFileSync(
    conf,
    `global(workDirectory="${path.join(dir, 'work')}" maxMessageSize="128k"
  defaultNetstreamDriverCAFile="${cert.caFile}")
module(load="imkafka")
module(load="mmjsonparse")
template(name="akkeris5424" type="string"
  string="<14>1 %$!time% %$!kubernetes!container_name%-%$!topic% app %$!kubernetes!pod_name% - - %$!log:::drop-last-lf%")
ruleset(name="drain") {
  action(type="mmjsonparse" cookie="")
  action(type="omfwd" target="127.0.0.1" port="${sinks.tlsPort}" protocol="tcp" tcp_framing="octet-counted"
    template="akkeris5424" streamDriver="gtls" streamDriverMode="1" streamDriverAuthMode="x509/name"
    streamDriverPermittedPeers="localhost")
}
input(type="imkafka" topic="${space}" broker=["${BROKER}"] consumergroup="${groupId}"
  ruleset="drain" confParam=["auto.offset.reset=smallest"])
`,
  );
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await waitForGroup(BROKER, groupId, 1, PARTITIONS);
    await sleep(SETTLE_MS);
    return await measure('rsyslog imkafka → omfwd TLS (peer)', LINES, child.pid!, () => sinks.tls, work.commit);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nrsyslogd: ${err.slice(-2000)}`);
  } finally {
    await stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const config = testConfig({ LOG_LEVEL: 'error' });
  await prepareStack({ databaseUrl: config.databaseUrl, influx: { url: config.influxUrl, token: config.influxToken, databases: [config.influxDb] } });
  const core = createCore(config, { logger: createLogger('error'), defaultMetrics: false });
  const store = new DrainStore(core.db);
  const cert = makeTestCert();
  const sinks = await startSinks(cert);
  console.log(
    `drains benchmark: ${LINES} lines, ${APPS} apps (one drain each), ${MESSAGE_BYTES}-byte messages, ${os.cpus().length} CPUs (${os.cpus()[0]?.model})`,
  );
  try {
    // Each run reads its own topic, held back by an open transaction until its processes are in place.
    const results: Result[] = [];
    if (which === 'all' || which === 'logway-tls') results.push(await runLogway('tls', core, store, await prepare(core), sinks, cert));
    if (which === 'all' || which === 'logway-https') results.push(await runLogway('https', core, store, await prepare(core), sinks, cert));
    if (which === 'all' || which === 'rsyslog') results.push(await runRsyslog(await prepare(core), sinks, cert));
    console.log('');
    results.forEach(printResult);
    const lw = results.find((r) => r.name.includes('TLS syslog'));
    const rs = results.find((r) => r.name.includes('peer'));
    if (lw && rs) console.log(`\nlogway/rsyslog (TLS): ${(lw.linesPerSec / rs.linesPerSec).toFixed(2)}×`);
  } finally {
    await sinks.close();
    await closeCore(core);
    fs.rmSync(cert.dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
