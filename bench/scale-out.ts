/**
 * Scale-out benchmark: drain throughput with 1, 2 and 3 logway nodes (built dist/bin/server.js)
 * sharing the drain consumer group on the 3-broker cluster, and how long the group takes to
 * recover after a node's SIGKILL.
 *
 *   bash scripts/stack cluster up && npm run build && npx tsx bench/scale-out.ts [lines]
 *
 * Throughput, for N = 1, 2, 3: a fresh 6-partition topic, six apps with one TLS syslog drain each
 * (a local rsyslogd). The N nodes start first (DRAIN_WORKERS=0, spec/cluster's clusterEnv: the
 * drains run in each node's own process) and the script waits until they consume: the
 * `logway-drains` group is Stable with N members and the topic's 6 partitions assigned, and a
 * warm-up round of probe lines (every app, every pod key) arrived through the drains. Only then
 * are the `lines` measured lines produced, by kcat (faster than the drains; the bench's kafkajs
 * producer was not). lines/s = lines / (last line at the sink − kcat's start); CPU per line =
 * user+system CPU of the node processes and their descendants (/proc/<pid>/stat) over that window
 * / lines; the brokers' and rsyslogd's CPU over the window is printed beside it. No session is
 * open, so the nodes' tail hubs read nothing (they read a space only while a session on the node
 * needs it: docs/scale-out.md "Tail reading").
 *
 * Recovery: 3 nodes ready as above, lines produced at a fixed rate (RATE lines/s, paced on the
 * clock); after 15 s one node is SIGKILLed. Reported: the time from the kill until every line
 * produced before the kill is at the sink, until every line produced in the first second after
 * it is (the dead node's partitions wait for the group session timeout, 30 s, before the
 * survivors take them), and until the backlog is gone (the sink within
 * one second of production of the producer). Duplicates (lines delivered twice) are counted.
 *
 * The sink file is read incrementally (only new bytes each poll) so that watching it costs little
 * CPU next to the nodes. `uptime` is printed with each figure: on a shared 2-core machine the
 * figures move with the load.
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { closeCore, Core } from '../lib/core';
import { createDrainsFeature } from '../drains/feature';
import { uniqueName } from '../spec/helpers/env';
import { CLUSTER_BROKERS, CLUSTER_DATABASE_URL, CLUSTER_INFLUX_DB, clusterCore, LogwayNode, sleep } from '../spec/cluster/helpers/cluster';
import { produceLines, Sink } from '../spec/cluster/helpers/drains';
import { appLog } from '../spec/helpers/drain-fixtures';
import { testEnv } from '../spec/helpers/env';
import { prepareStack, scriptArgs } from './lib/setup';

const { positionals } = scriptArgs({
  usage: 'bash scripts/stack cluster up && npm run build && npx tsx bench/scale-out.ts [lines]   (default 100000)',
  about:
    'Drain throughput with 1, 2 and 3 logway nodes (dist/bin/server.js) sharing the drain consumer group on the 3-broker cluster, ' +
    "and how long the group takes to recover after a node's SIGKILL.",
  env: {
    RATE: 'recovery: lines/s produced while a node is killed (4000)',
    CLUSTER_DATABASE_URL: 'PostgreSQL (postgres://logway:logway@127.0.0.1:5432/logway_cluster)',
    CLUSTER_LOG_LEVEL: "the nodes' log level (warn)",
  },
  prints:
    'per node count: lines/s, CPU per line of the nodes, the brokers and rsyslogd, with uptime; then the recovery times after the kill and the duplicates.',
  needs:
    'the 3-broker cluster (scripts/stack cluster up), the build, rsyslogd, kcat; PostgreSQL (its database created and migrated here), InfluxDB (its database created here).',
});

const run = promisify(execFile);

/** kcat input (`key|value` per line): the same keys and messages as produceLines. */
function linesFor(space: string, apps: string[], tag: string, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const app = apps[i % apps.length];
    const pod = `1562910588-p${Math.floor(i / apps.length) % 3}`;
    out.push(`${app}-web-${pod}|${appLog(app, space, pod, `${tag} ${app} ${i}`)}`);
  }
  return `${out.join('\n')}\n`;
}

const LINES = Number(positionals[0] ?? 100_000);
const RATE = Number(process.env.RATE ?? 4000);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const GROUP = 'logway-drains';

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const log = (s: string) => process.stdout.write(`${s}\n`);

/** user+system CPU seconds of `pid` and every descendant process alive now. */
function treeCpu(pid: number | undefined): number {
  if (!pid) return 0;
  const stats = new Map<number, { ppid: number; cpu: number }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      stats.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    total += stats.get(p)?.cpu ?? 0;
    for (const [c, s] of stats) if (s.ppid === p) todo.push(c);
  }
  return total;
}

/** The cluster's broker pids (scripts/stack cluster status) and rsyslogd's: their CPU is reported beside the nodes'. */
function otherPids(sink: Sink): number[] {
  const status = execFileSync('bash', ['scripts/stack', 'cluster', 'status'], { encoding: 'utf8' });
  const brokers = [...status.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  const rsyslogd = (sink.rsyslog as unknown as { proc: { pid?: number } | null }).proc?.pid;
  return rsyslogd ? [...brokers, rsyslogd] : brokers;
}

const pidsCpu = (pids: number[]) => pids.reduce((s, p) => s + treeCpu(p), 0);

const nodesCpu = (nodes: LogwayNode[]) => nodes.reduce((s, x) => s + (x.running ? treeCpu(x.proc?.pid) : 0), 0);

/** Reads the sink's parsed file from where it stopped; keeps, per tag, the line numbers seen and how many arrived. */
class SinkWatch {
  private offset = 0;
  private rest = '';
  seen = new Map<string, Set<number>>();
  total = new Map<string, number>();

  constructor(private file: string) {}

  watch(tag: string): void {
    this.seen.set(tag, new Set());
    this.total.set(tag, 0);
  }

  poll(): void {
    if (!fs.existsSync(this.file)) return;
    const size = fs.statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = fs.openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    fs.readSync(fd, buf, 0, buf.length, this.offset);
    fs.closeSync(fd);
    this.offset = size;
    const text = this.rest + buf.toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) {
      const msg = l.split('\t').slice(4).join('\t').trim(); // `<tag> <app> <seq>`
      const sp = msg.indexOf(' ');
      const set = this.seen.get(msg.slice(0, sp));
      if (!set) continue;
      const tag = msg.slice(0, sp);
      set.add(Number(msg.slice(msg.lastIndexOf(' ') + 1)));
      this.total.set(tag, (this.total.get(tag) ?? 0) + 1);
    }
  }

  count(tag: string): number {
    return this.seen.get(tag)?.size ?? 0;
  }
}

async function setup(core: Core, drains: ReturnType<typeof createDrainsFeature>, url: string, prefix: string) {
  const space = uniqueName(prefix);
  const apps = Array.from({ length: 6 }, (_, i) => `${prefix}${i}${uniqueName('a')}`);
  await core.kafka.createTopic(space, 6);
  for (const app of apps) {
    await core.apps.register(`${app}-${space}`);
    await drains.store.create('app', `${app}-${space}`, url);
  }
  return { space, apps };
}

/** Until the drain group is Stable with `n` members and `topic`'s 6 partitions are assigned. */
async function groupJoined(kafka: Kafka, n: number, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { groups } = await admin.describeGroups([GROUP]);
      const g = groups[0];
      const assigned = new Set<number>();
      for (const m of g.members) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        for (const p of a?.assignment[topic] ?? []) assigned.add(p);
      }
      if (g.state === 'Stable' && g.members.length === n && assigned.size === 6) return;
      if (Date.now() > deadline) throw new Error(`group ${GROUP}: ${g.state}, ${g.members.length} members, ${assigned.size} of 6 partitions of ${topic}`);
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Probe rounds (every app, every pod key) until one arrives whole through the drains. */
async function warmUp(core: Core, watch: SinkWatch, space: string, apps: string[]): Promise<void> {
  const deadline = Date.now() + 150_000;
  for (let round = 0; Date.now() < deadline; round++) {
    const tag = uniqueName('probe');
    watch.watch(tag);
    await produceLines(core, { space, apps, tag, count: apps.length * 3 });
    const until = Math.min(deadline, Date.now() + 15_000);
    while (Date.now() < until) {
      watch.poll();
      if (watch.count(tag) === apps.length * 3) return;
      await sleep(200);
    }
  }
  throw new Error('no whole round of probes');
}

async function startNodes(core: Core, kafka: Kafka, watch: SinkWatch, names: string[], space: string, apps: string[]): Promise<LogwayNode[]> {
  const nodes = names.map((n) => new LogwayNode(n));
  await Promise.all(nodes.map((x) => x.start()));
  await groupJoined(kafka, nodes.length, space);
  await warmUp(core, watch, space, apps);
  return nodes;
}

async function main(): Promise<void> {
  log(`lines ${LINES}, cores ${os.availableParallelism()}; ${uptime()}`);
  await prepareStack({ databaseUrl: CLUSTER_DATABASE_URL, influx: { url: testEnv.INFLUX_URL, databases: [CLUSTER_INFLUX_DB] } });
  const core = clusterCore();
  const kafka = new Kafka({ clientId: 'bench-scale-out', brokers: CLUSTER_BROKERS, logLevel: logLevel.NOTHING });
  const drains = createDrainsFeature(core, { worker: false });
  const sink = new Sink();
  await sink.start();
  const watch = new SinkWatch(sink.rsyslog.file('tls', 'parsed'));
  const rows: string[] = [];
  const started: LogwayNode[] = [];
  try {
    for (const n of [1, 2, 3]) {
      const { space, apps } = await setup(core, drains, sink.url, 'so');
      const nodes = await startNodes(
        core,
        kafka,
        watch,
        Array.from({ length: n }, (_, i) => `bench-${n}-${i}`),
        space,
        apps,
      );
      started.push(...nodes);
      const tag = uniqueName('t');
      watch.watch(tag);
      // kcat produces the measured lines (a C producer, acks=all): the bench's own kafkajs producer
      // (one send in flight) was slower than the drains and made the figure the producer's.
      const file = path.join(os.tmpdir(), `${tag}.kcat`);
      fs.writeFileSync(file, linesFor(space, apps, tag, LINES));
      const others = otherPids(sink);
      const cpu0 = nodesCpu(nodes);
      const other0 = pidsCpu(others);
      const t0 = Date.now();
      let producedAt = 0;
      const producing = run(
        'kcat',
        ['-P', '-b', CLUSTER_BROKERS.join(','), '-t', space, '-K', '|', '-X', 'acks=all', '-X', 'partitioner=murmur2_random', '-l', file],
        {
          maxBuffer: 1 << 26,
        },
      ).then(() => {
        producedAt = Date.now();
        fs.rmSync(file, { force: true });
      });
      const giveUp = Date.now() + 600_000;
      let last = 0;
      for (;;) {
        await sleep(100);
        watch.poll();
        if (watch.count(tag) >= LINES) {
          last = Date.now();
          break;
        }
        if (Date.now() > giveUp) throw new Error(`${n} node(s): ${watch.count(tag)} of ${LINES} lines at the sink after 10 min`);
      }
      const cpu = nodesCpu(nodes) - cpu0;
      const other = pidsCpu(others) - other0;
      await producing;
      const secs = (last - t0) / 1000;
      const dup = (watch.total.get(tag) ?? 0) - watch.count(tag);
      await Promise.all(nodes.map((x) => x.stop('SIGTERM')));
      const row = `| ${n} | ${LINES.toLocaleString('en-US')} | ${((producedAt - t0) / 1000).toFixed(1)} s | ${secs.toFixed(1)} s | ${Math.round(LINES / secs).toLocaleString('en-US')} | ${cpu.toFixed(1)} s | ${((cpu / LINES) * 1e6).toFixed(1)} µs | ${other.toFixed(1)} s | ${dup} | ${os.loadavg()[0].toFixed(2)} |`;
      rows.push(row);
      log(`${row}   ${uptime()}`);
    }

    // Recovery after a node's death.
    const { space, apps } = await setup(core, drains, sink.url, 'sr');
    const nodes = await startNodes(
      core,
      kafka,
      watch,
      [0, 1, 2].map((i) => `bench-r${i}`),
      space,
      apps,
    );
    started.push(...nodes);
    const tag = uniqueName('r');
    watch.watch(tag);
    let produced = 0;
    let stop = false;
    const chunk = Math.max(1, Math.round(RATE / 10));
    const p0 = Date.now();
    const flowing = (async () => {
      while (!stop) {
        // Paced on the clock: chunk k is sent at p0 + k × 100 ms (or at once when behind).
        const due = p0 + (produced / chunk) * 100;
        if (Date.now() < due) await sleep(due - Date.now());
        await produceLines(core, { space, apps, tag, count: chunk, from: produced, chunk });
        produced += chunk;
      }
    })();
    while (Date.now() - p0 < 15_000) {
      await sleep(100);
      watch.poll();
    }
    await nodes[1].stop('SIGKILL');
    const killedAt = Date.now();
    const beforeKill = produced;
    const atKill = watch.count(tag);
    log(`killed ${nodes[1].name} at ${beforeKill} produced, ${atKill} at the sink; ${uptime()}`);
    let allBefore = 0;
    let afterKill = 0; // every line produced in the first second after the kill at the sink
    let afterKillUpTo = 0;
    let caughtUp = 0;
    const seen = watch.seen.get(tag)!;
    while (!allBefore || !afterKill || !caughtUp) {
      await sleep(100);
      watch.poll();
      if (Date.now() - killedAt > 180_000) throw new Error(`no recovery within 180 s (${watch.count(tag)} of ${produced})`);
      if (!allBefore) {
        let missing = 0;
        for (let i = 0; i < beforeKill; i++) if (!seen.has(i)) missing++;
        if (missing === 0) allBefore = Date.now();
      }
      if (!afterKillUpTo && Date.now() - killedAt >= 1000) afterKillUpTo = produced;
      if (afterKillUpTo && !afterKill) {
        let missing = 0;
        for (let i = beforeKill; i < afterKillUpTo; i++) if (!seen.has(i)) missing++;
        if (missing === 0) afterKill = Date.now();
      }
      if (afterKill && !caughtUp && watch.count(tag) >= produced - RATE) caughtUp = Date.now();
    }
    stop = true;
    await flowing;
    const rate = Math.round((produced / (Date.now() - p0)) * 1000);
    const dup = (watch.total.get(tag) ?? 0) - watch.count(tag);
    log(
      `recovery (3 → 2 nodes, ${rate.toLocaleString('en-US')} lines/s produced): every line produced before the kill at the sink ${((allBefore - killedAt) / 1000).toFixed(1)} s after it; every line produced in the first second after the kill (all partitions, the dead node's too) ${((afterKill - killedAt) / 1000).toFixed(1)} s after it; backlog gone (sink within 1 s of production) ${((caughtUp - killedAt) / 1000).toFixed(1)} s after it; ${dup} duplicates of ${watch.count(tag)} lines; ${uptime()}`,
    );
    await Promise.all(nodes.map((x) => x.stop('SIGTERM')));
  } finally {
    await Promise.all(started.map((x) => x.stop('SIGKILL')));
    await sink.close();
    await closeCore(core);
  }
  log(
    `\n| nodes | lines | produced in | first produced → last delivered | lines/s | nodes' CPU | CPU per line | brokers' + rsyslogd's CPU | duplicates | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n${uptime()}`,
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
