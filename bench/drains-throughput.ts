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
 * The lines are produced first (the producer is not measured). Each run starts a fresh consumer
 * group from the beginning of the topic; the worker (spec/helpers/drain-worker-process.ts) or
 * rsyslogd runs as its own process so its CPU (/proc/<pid>/stat) and RSS are its own. The sinks run
 * in this process and count frames. lines/s = lines / (last line received − first line received).
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { closeCore, createCore, Core } from '../lib/core';
import { createLogger } from '../lib/logger';
import { DrainStore } from '../drains/store';
import { testConfig, uniqueName, REPO_ROOT } from '../spec/helpers/env';
import { makeTestCert, TestCert } from '../spec/helpers/test-cert';

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const LINES = env('LINES', 200_000);
const APPS = env('APPS', 10);
const PARTITIONS = env('PARTITIONS', 3);
const MESSAGE_BYTES = env('MESSAGE_BYTES', 120);
const BROKER = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const CLK_TCK = 100;
const DRAIN_WORKERS = env('DRAIN_WORKERS', 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Totals over every connection of the TLS sink. */
class FrameCounter {
  count = 0;
  first = 0;
  last = 0;
}

/** Counts RFC6587 octet-counted frames of one connection, across chunk boundaries. */
class FrameParser {
  private need = -1;
  private digits = '';
  constructor(private totals: () => FrameCounter) {}
  feed(buf: Buffer): void {
    const t = this.totals();
    let count = 0;
    let i = 0;
    while (i < buf.length) {
      if (this.need > 0) {
        const take = Math.min(this.need, buf.length - i);
        this.need -= take;
        i += take;
        if (this.need === 0) {
          count++;
          this.need = -1;
        }
        continue;
      }
      const c = buf[i++];
      if (c === 0x20) {
        this.need = Number(this.digits);
        this.digits = '';
      } else if (c >= 0x30 && c <= 0x39) this.digits += String.fromCharCode(c);
    }
    if (count > 0) {
      const now = performance.now();
      t.count += count;
      if (!t.first) t.first = now;
      t.last = now;
    }
  }
}

interface Sinks {
  tlsPort: number;
  httpsPort: number;
  tls: FrameCounter;
  https: { count: number; first: number; last: number; requests: number };
  close(): Promise<void>;
  reset(): void;
}

async function startSinks(cert: TestCert): Promise<Sinks> {
  const sinks = {
    tls: new FrameCounter(),
    https: { count: 0, first: 0, last: 0, requests: 0 },
  } as Sinks;
  const sockets = new Set<net.Socket>();
  const tlsServer = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => {
    const parser = new FrameParser(() => sinks.tls);
    s.on('data', (d: Buffer) => parser.feed(d));
    s.on('error', () => undefined);
  });
  const httpsServer = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now();
      const h = sinks.https;
      h.count += Number(req.headers['logplex-msg-count'] ?? 0);
      h.requests++;
      if (!h.first) h.first = now;
      h.last = now;
      res.writeHead(200);
      res.end();
    });
  });
  for (const srv of [tlsServer, httpsServer]) srv.on('connection', (s: net.Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => httpsServer.listen(0, '127.0.0.1', r));
  sinks.tlsPort = (tlsServer.address() as net.AddressInfo).port;
  sinks.httpsPort = (httpsServer.address() as net.AddressInfo).port;
  sinks.reset = () => {
    sinks.tls = new FrameCounter();
    sinks.https = { count: 0, first: 0, last: 0, requests: 0 };
  };
  sinks.close = async () => {
    sockets.forEach((s) => s.destroy());
    await Promise.all([new Promise((r) => tlsServer.close(r)), new Promise((r) => httpsServer.close(r))]);
  };
  return sinks;
}

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

async function produce(core: Core, space: string, apps: string[]): Promise<void> {
  const started = performance.now();
  const chunk = 1500; // a produce request stays under the broker's 1 MB limit
  for (let i = 0; i < LINES; i += chunk) {
    const records = [];
    for (let j = i; j < Math.min(LINES, i + chunk); j++) {
      const app = apps[j % apps.length];
      records.push({ key: `${app}-${j % 4}`, value: appLog(app, space, j) });
    }
    await core.kafka.produce(space, records);
  }
  console.log(`produced ${LINES} lines to ${space} (${PARTITIONS} partitions) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** The process and its children (the drain worker processes). */
function family(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children];
}

function cpuTicks(pid: number): number {
  return family(pid).reduce((n, p) => n + ownCpuTicks(p), 0);
}

function ownCpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssBytes(pid: number): number {
  return family(pid).reduce((n, p) => n + ownRssBytes(p), 0);
}

function ownRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Result {
  name: string;
  lines: number;
  seconds: number;
  linesPerSec: number;
  cpuSeconds: number;
  cpuPercent: number;
  peakRssMb: number;
  /** Frames at the sink 2 s after the count was reached (more than `lines`: duplicates). */
  framesLater?: number;
  /** GET /health/live on the node's process during the run: p50, p99, max (ms). */
  live?: { p50: number; p99: number; max: number };
}

/** Times GET /health/live every 20 ms until stopped. */
function probeLive(port: number): () => Result['live'] {
  const samples: number[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/health/live', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', () => resolve());
      });
      samples.push(performance.now() - t0);
      await sleep(20);
    }
  })();
  return () => {
    running = false;
    const s = [...samples].sort((a, b) => a - b);
    const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10;
    return s.length ? { p50: at(0.5), p99: at(0.99), max: at(1) } : undefined;
  };
}

/** Waits until the counter reaches LINES, sampling the process's CPU and RSS from the first line on. */
async function measure(name: string, pid: number, counter: () => { count: number; first: number; last: number }, timeoutMs = 600_000): Promise<Result> {
  const deadline = Date.now() + timeoutMs;
  let cpuAtFirst = -1;
  let peakRss = 0;
  let lastCount = -1;
  let stalledSince = Date.now();
  while (counter().count < LINES) {
    if (Date.now() > deadline) throw new Error(`${name}: only ${counter().count}/${LINES} lines after ${timeoutMs} ms`);
    if (cpuAtFirst < 0 && counter().count > 0) cpuAtFirst = cpuTicks(pid);
    if (counter().count > 0) peakRss = Math.max(peakRss, rssBytes(pid));
    if (counter().count !== lastCount) {
      lastCount = counter().count;
      stalledSince = Date.now();
    } else if (lastCount > 0 && Date.now() - stalledSince > 30_000) {
      throw new Error(`${name}: stalled at ${lastCount}/${LINES} lines`);
    }
    await sleep(cpuAtFirst < 0 ? 5 : 100);
  }
  const cpu = (cpuTicks(pid) - Math.max(0, cpuAtFirst)) / CLK_TCK;
  peakRss = Math.max(peakRss, rssBytes(pid));
  const c = counter();
  const seconds = (c.last - c.first) / 1000;
  return {
    name,
    lines: c.count,
    seconds,
    linesPerSec: Math.round(c.count / seconds),
    cpuSeconds: cpu,
    cpuPercent: Math.round((cpu / seconds) * 100),
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  };
}

async function startWorker(space: string, cert: TestCert): Promise<{ child: ChildProcess; httpPort: number }> {
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
        groupId: uniqueName('drains-bench-'),
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

async function runLogway(kind: 'tls' | 'https', core: Core, store: DrainStore, space: string, apps: string[], sinks: Sinks, cert: TestCert): Promise<Result> {
  sinks.reset();
  const ids: string[] = [];
  for (const app of apps) {
    const url = kind === 'tls' ? `syslog+tls://localhost:${sinks.tlsPort}` : `https://localhost:${sinks.httpsPort}/drain`;
    ids.push((await store.create('app', `${app}-${space}`, url)).id);
  }
  const { child, httpPort } = await startWorker(space, cert);
  const live = probeLive(httpPort);
  try {
    const label = `logway${DRAIN_WORKERS ? ` ×${DRAIN_WORKERS} processes` : ''} → ${kind === 'tls' ? 'TLS syslog' : 'HTTPS'}`;
    const counter = () => (kind === 'tls' ? sinks.tls : sinks.https);
    const r = await measure(label, child.pid!, counter);
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

async function runRsyslog(space: string, sinks: Sinks, cert: TestCert): Promise<Result> {
  sinks.reset();
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
input(type="imkafka" topic="${space}" broker=["${BROKER}"] consumergroup="${uniqueName('rsyslog-bench-')}"
  ruleset="drain" confParam=["auto.offset.reset=smallest"])
`,
  );
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    return await measure('rsyslog imkafka → omfwd TLS (peer)', child.pid!, () => sinks.tls);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nrsyslogd: ${err.slice(-2000)}`);
  } finally {
    await stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function print(r: Result): void {
  console.log(
    `${r.name.padEnd(40)} ${String(r.linesPerSec).padStart(8)} lines/s  (${r.lines} lines in ${r.seconds.toFixed(2)} s)  CPU ${r.cpuSeconds.toFixed(1)} s = ${r.cpuPercent}% of a core, ${((r.cpuSeconds / r.lines) * 1e6).toFixed(1)} µs/line  peak RSS ${r.peakRssMb} MB` +
      (r.live ? `  /health/live p50 ${r.live.p50} ms p99 ${r.live.p99} ms max ${r.live.max} ms` : '') +
      (r.framesLater !== undefined ? `  frames at the sink 2 s later: ${r.framesLater}` : ''),
  );
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'all';
  const core = createCore(testConfig({ LOG_LEVEL: 'error' }), { logger: createLogger('error'), defaultMetrics: false });
  const store = new DrainStore(core.db);
  const cert = makeTestCert();
  const sinks = await startSinks(cert);
  const space = uniqueName('dbench');
  const apps = Array.from({ length: APPS }, (_, i) => `bench${i}x${uniqueName('')}`);
  console.log(
    `drains benchmark: ${LINES} lines, ${APPS} apps (one drain each), ${MESSAGE_BYTES}-byte messages, ${os.cpus().length} CPUs (${os.cpus()[0]?.model})`,
  );
  try {
    await core.kafka.createTopic(space, PARTITIONS);
    for (const app of apps) await core.apps.register(`${app}-${space}`);
    await produce(core, space, apps);
    const results: Result[] = [];
    if (which === 'all' || which === 'logway-tls') results.push(await runLogway('tls', core, store, space, apps, sinks, cert));
    if (which === 'all' || which === 'logway-https') results.push(await runLogway('https', core, store, space, apps, sinks, cert));
    if (which === 'all' || which === 'rsyslog') results.push(await runRsyslog(space, sinks, cert));
    console.log('');
    results.forEach(print);
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
