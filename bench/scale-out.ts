/**
 * Scale-out benchmark: drain throughput with 1, 2 and 3 logway nodes (built dist/bin/server.js)
 * sharing the drain consumer group on the 3-broker cluster, and how long the group takes to
 * recover after a node's SIGKILL.
 *
 *   bash scripts/stack cluster up && npm run build && npx tsx bench/scale-out.ts [lines]
 *
 * Throughput: `lines` (default 200,000) are produced into a fresh 6-partition topic first, six
 * apps with one TLS syslog drain each (a local rsyslogd); then N nodes start and drain it.
 * lines/s = lines / (last line at the sink − first line at the sink); CPU per line = the nodes'
 * user+system CPU over the run / lines (the nodes run with DRAIN_WORKERS=0, spec/cluster's
 * clusterEnv: the drains are in the node's own process, so its pid's CPU is all of it). Recovery:
 * 3 nodes, lines produced at a steady rate (~4,000 lines/s), one node SIGKILLed; recovery = time
 * from the kill until the sink has every line produced before the kill (the dead node's undelivered
 * lines wait for its partitions to be reassigned, after the group session timeout of 30 s), and
 * the time until the sink is again within one produced chunk (500 lines) of the producer.
 * The load average is printed before and after: on a shared machine the figures move with it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { closeCore } from '../lib/core';
import { createDrainsFeature } from '../drains/feature';
import { uniqueName } from '../spec/helpers/env';
import { clusterCore, LogwayNode, sleep } from '../spec/cluster/helpers/cluster';
import { produceLines, Sink } from '../spec/cluster/helpers/drains';

const LINES = Number(process.argv[2] ?? 200_000);
const CLK_TCK = 100;

function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  process.stdout.write(`lines ${LINES}, cores ${os.availableParallelism()}, load average ${load()}\n`);
  const core = clusterCore();
  const drains = createDrainsFeature(core, { worker: false });
  const sink = new Sink();
  await sink.start();
  // Migrations: one node started and stopped on the shared database.
  const boot = new LogwayNode('bench-boot');
  await boot.start();
  await boot.stop('SIGTERM');
  const rows: string[] = [];
  try {
    for (const n of [1, 2, 3]) {
      const space = uniqueName('so');
      const apps = Array.from({ length: 6 }, (_, i) => `so${i}${uniqueName('a')}`);
      await core.kafka.createTopic(space, 6);
      for (const app of apps) {
        await core.apps.register(`${app}-${space}`);
        await drains.store.create('app', `${app}-${space}`, sink.url);
      }
      const tag = uniqueName('t');
      await produceLines(core, { space, apps, tag, count: LINES, chunk: 5000 });
      const nodes = Array.from({ length: n }, (_, i) => new LogwayNode(`bench-${n}-${i}`));
      await Promise.all(nodes.map((x) => x.start()));
      const cpu0 = nodes.map((x) => cpuSeconds(x.proc?.pid));
      let first = 0;
      let count = 0;
      const giveUp = Date.now() + 600_000;
      while (count < LINES) {
        if (Date.now() > giveUp) throw new Error(`${n} node(s): ${count} of ${LINES} lines at the sink after 10 min`);
        await sleep(250);
        count = new Set(sink.delivered(tag)).size;
        if (count > 0 && !first) first = Date.now();
      }
      const secs = (Date.now() - first) / 1000;
      const cpu = nodes.reduce((s, x, i) => s + cpuSeconds(x.proc?.pid) - cpu0[i], 0);
      await Promise.all(nodes.map((x) => x.stop('SIGTERM')));
      const row = `| ${n} | ${LINES.toLocaleString('en-US')} | ${Math.round(LINES / secs).toLocaleString('en-US')} | ${cpu.toFixed(1)} s | ${((cpu / LINES) * 1e6).toFixed(1)} µs |`;
      rows.push(row);
      process.stdout.write(`${row}\n`);
    }

    // Recovery after a node's death.
    const space = uniqueName('sr');
    const apps = Array.from({ length: 6 }, (_, i) => `sr${i}${uniqueName('a')}`);
    await core.kafka.createTopic(space, 6);
    for (const app of apps) {
      await core.apps.register(`${app}-${space}`);
      await drains.store.create('app', `${app}-${space}`, sink.url);
    }
    const nodes = [0, 1, 2].map((i) => new LogwayNode(`bench-r${i}`));
    await Promise.all(nodes.map((x) => x.start()));
    const tag = uniqueName('r');
    let produced = 0;
    let stop = false;
    const flowing = (async () => {
      while (!stop) {
        await produceLines(core, { space, apps, tag, count: 500, from: produced, chunk: 500 });
        produced += 500;
        await sleep(100); // ~4,000 lines/s
      }
    })();
    while (new Set(sink.delivered(tag)).size < 20_000) await sleep(100);
    await nodes[1].stop('SIGKILL');
    const killedAt = Date.now();
    const beforeKill = produced;
    // Every line produced before the kill at the sink (the tag's lines are numbered from 0 in production order).
    const before = new Set(Array.from({ length: beforeKill }, (_, i) => i));
    const number = (m: string) => Number(m.slice(m.lastIndexOf(' ') + 1)); // `<tag> <app> <seq>`
    let allBefore = 0;
    let caughtUp = 0;
    while (!allBefore || !caughtUp) {
      await sleep(100);
      if (Date.now() - killedAt > 180_000) throw new Error('no recovery within 180 s');
      const got = sink.delivered(tag);
      if (!allBefore) {
        for (const m of got) before.delete(number(m));
        if (before.size === 0) allBefore = Date.now();
      }
      if (!caughtUp && Date.now() - killedAt > 1000 && new Set(got).size >= produced - 500) caughtUp = Date.now();
    }
    stop = true;
    await flowing;
    process.stdout.write(
      `recovery after a node's SIGKILL (3 → 2 nodes, ~4,000 lines/s): every line produced before the kill at the sink ${((allBefore - killedAt) / 1000).toFixed(1)} s after it; sink within 500 lines of the producer again ${((caughtUp - killedAt) / 1000).toFixed(1)} s after it\n`,
    );
    await Promise.all(nodes.map((x) => x.stop('SIGTERM')));
  } finally {
    await sink.close();
    await closeCore(core);
  }
  process.stdout.write(`\n| nodes | lines | lines/s | nodes' CPU | CPU per line |\n|---|---|---|---|---|\n${rows.join('\n')}\nload average ${load()}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
