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
 * user+system CPU over the run / lines. Recovery: 3 nodes, lines produced at a steady rate, one
 * node SIGKILLed; recovery = time from the kill until the sink has every line produced so far.
 */
import fs from 'node:fs';
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

async function main(): Promise<void> {
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
      while (count < LINES) {
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
    let caughtUp = 0;
    for (;;) {
      await sleep(100);
      const target = produced;
      if (new Set(sink.delivered(tag)).size >= target && Date.now() - killedAt > 1000) {
        caughtUp = Date.now();
        break;
      }
    }
    stop = true;
    await flowing;
    process.stdout.write(
      `recovery after a node's SIGKILL (3 → 2 nodes, ~4,000 lines/s): ${((caughtUp - killedAt) / 1000).toFixed(1)} s until the sink had every line produced\n`,
    );
    await Promise.all(nodes.map((x) => x.stop('SIGTERM')));
  } finally {
    await sink.close();
    await closeCore(core);
  }
  process.stdout.write(`\n| nodes | lines | lines/s | nodes' CPU | CPU per line |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
