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
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { Kafka as KafkaJs, logLevel as KafkaLogLevel, AssignerProtocol, CompressionTypes, Partitioners } from 'kafkajs';
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

/**
 * Produces LINES lines to `space` in one transaction, left open: a consumer reading committed sees none of
 * them until the returned commit() (kafkajs and librdkafka both read committed by default).
 */
async function produceGated(space: string, apps: string[]): Promise<() => Promise<void>> {
  const started = performance.now();
  const kafka = new KafkaJs({ clientId: 'drains-bench', brokers: [BROKER], logLevel: KafkaLogLevel.NOTHING });
  const producer = kafka.producer({
    transactionalId: uniqueName('drains-bench-tx-'),
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 600_000,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const tx = await producer.transaction();
  const chunk = 1500; // a produce request stays under the broker's 1 MB limit
  for (let i = 0; i < LINES; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(LINES, i + chunk); j++) {
      const app = apps[j % apps.length];
      messages.push({ key: `${app}-${j % 4}`, value: appLog(app, space, j) });
    }
    await tx.send({ topic: space, acks: -1, compression: CompressionTypes.None, messages });
  }
  console.log(`produced ${LINES} lines to ${space} (${PARTITIONS} partitions) in ${((performance.now() - started) / 1000).toFixed(1)} s, uncommitted`);
  return async () => {
    await tx.commit();
    await producer.disconnect();
  };
}

/** Waits until consumer group `groupId` is Stable with `members` members that hold all PARTITIONS partitions between them, each some. */
async function waitForGroup(groupId: string, members: number, timeoutMs = 180_000): Promise<void> {
  const kafka = new KafkaJs({ clientId: 'drains-bench-admin', brokers: [BROKER], logLevel: KafkaLogLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  try {
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      const held = (g?.members ?? []).map((m) => {
        const a = m.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
        return Object.values(a?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0);
      });
      seen = `${g?.state} with ${held.length} members holding ${held.join('+') || 0} partitions`;
      if (g?.state === 'Stable' && held.length === members && held.every((n) => n > 0) && held.reduce((a, b) => a + b, 0) === PARTITIONS) {
        console.log(`group ${groupId}: ${seen}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`group ${groupId}: ${seen} after ${timeoutMs} ms, want ${members} members`);
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

/** The process and its descendants (the drain worker processes). */
function family(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children.flatMap(family)];
}

function ownCpuTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined; // gone
  }
}

/**
 * CPU of a process and its descendants from a baseline, summed per pid: each pid present at start() counts
 * from its ticks then; one first seen later counts from its first sighting and is flagged (its ticks before
 * are lost, e.g. a worker process replaced mid-run); one that vanishes keeps its last sampled ticks (flagged).
 */
class CpuWindow {
  private base = new Map<number, number>();
  private last = new Map<number, number>();
  readonly late = new Set<number>();
  readonly gone = new Set<number>();
  startedAt = 0;
  constructor(private root: number) {}
  start(): void {
    this.startedAt = performance.now();
    for (const p of family(this.root)) {
      const t = ownCpuTicks(p);
      if (t === undefined) continue;
      this.base.set(p, t);
      this.last.set(p, t);
    }
  }
  sample(): void {
    const now = new Set(family(this.root));
    for (const p of now) {
      const t = ownCpuTicks(p);
      if (t === undefined) continue;
      if (!this.base.has(p)) {
        this.base.set(p, t);
        this.late.add(p);
      }
      this.last.set(p, t);
    }
    for (const p of this.base.keys()) if (!now.has(p)) this.gone.add(p);
  }
  seconds(): number {
    let ticks = 0;
    for (const [p, b] of this.base) ticks += (this.last.get(p) ?? b) - b;
    return ticks / CLK_TCK;
  }
  pids(): number {
    return this.base.size;
  }
  /** CPU seconds per pid, the root first. */
  split(): number[] {
    return [...this.base].map(([p, b]) => ((this.last.get(p) ?? b) - b) / CLK_TCK);
  }
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
  /** CPU of the process and its worker processes, commit → last line. */
  cpuSeconds: number;
  /** Seconds from the commit (CPU baselines) to the last line. */
  cpuWindow: number;
  cpuPercent: number;
  /** Processes whose CPU was counted. */
  processes: number;
  /** CPU seconds per process, the root (node or rsyslogd) first. */
  cpuSplit: number[];
  /** Pids that appeared or vanished mid-run (their CPU is incomplete); empty when none. */
  cpuFlags: string;
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

/**
 * Takes the CPU baselines of `pid` and its descendants, calls release() (commits the lines), then waits until the
 * counter reaches LINES, sampling CPU and RSS every 100 ms.
 */
async function measure(
  name: string,
  pid: number,
  counter: () => { count: number; first: number; last: number },
  release: () => Promise<void>,
  timeoutMs = 600_000,
): Promise<Result> {
  const deadline = Date.now() + timeoutMs;
  const cpu = new CpuWindow(pid);
  let peakRss = 0;
  let lastCount = -1;
  let stalledSince = Date.now();
  cpu.start();
  await release();
  while (counter().count < LINES) {
    if (Date.now() > deadline) throw new Error(`${name}: only ${counter().count}/${LINES} lines after ${timeoutMs} ms`);
    cpu.sample();
    peakRss = Math.max(peakRss, rssBytes(pid));
    if (counter().count !== lastCount) {
      lastCount = counter().count;
      stalledSince = Date.now();
    } else if (Date.now() - stalledSince > 30_000) {
      throw new Error(`${name}: stalled at ${lastCount}/${LINES} lines`);
    }
    await sleep(100);
  }
  cpu.sample();
  const window = (performance.now() - cpu.startedAt) / 1000;
  const cpuSeconds = cpu.seconds();
  peakRss = Math.max(peakRss, rssBytes(pid));
  const c = counter();
  const seconds = (c.last - c.first) / 1000;
  const flags = [
    ...(cpu.late.size ? [`pids first seen mid-run (counted from then): ${[...cpu.late].join(',')}`] : []),
    ...(cpu.gone.size ? [`pids gone mid-run: ${[...cpu.gone].join(',')}`] : []),
  ];
  return {
    name,
    lines: c.count,
    seconds,
    linesPerSec: Math.round(c.count / seconds),
    cpuSeconds,
    cpuWindow: window,
    cpuPercent: Math.round((cpuSeconds / window) * 100),
    processes: cpu.pids(),
    cpuSplit: cpu.split(),
    cpuFlags: flags.join('; '),
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  };
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
  return { space, apps, commit: await produceGated(space, apps) };
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
    await waitForGroup(groupId, Math.max(1, DRAIN_WORKERS));
    await sleep(SETTLE_MS);
    live = probeLive(httpPort);
    const label = `logway${DRAIN_WORKERS ? ` ×${DRAIN_WORKERS} process${DRAIN_WORKERS > 1 ? 'es' : ''}` : ''} → ${kind === 'tls' ? 'TLS syslog' : 'HTTPS'}`;
    const counter = () => (kind === 'tls' ? sinks.tls : sinks.https);
    const r = await measure(label, child.pid!, counter, work.commit);
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
    await waitForGroup(groupId, 1);
    await sleep(SETTLE_MS);
    return await measure('rsyslog imkafka → omfwd TLS (peer)', child.pid!, () => sinks.tls, work.commit);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nrsyslogd: ${err.slice(-2000)}`);
  } finally {
    await stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function print(r: Result): void {
  console.log(
    `${r.name.padEnd(40)} ${String(r.linesPerSec).padStart(8)} lines/s  (${r.lines} lines in ${r.seconds.toFixed(2)} s)  CPU ${r.cpuSeconds.toFixed(2)} s over ${r.cpuWindow.toFixed(2)} s (${r.processes} processes: ${r.cpuSplit.map((c) => c.toFixed(2)).join(' + ')}) = ${r.cpuPercent}% of a core, ${((r.cpuSeconds / r.lines) * 1e6).toFixed(1)} µs/line  peak RSS ${r.peakRssMb} MB` +
      (r.cpuFlags ? `  CPU INCOMPLETE: ${r.cpuFlags}` : '') +
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
