/**
 * Kafka client choice (issue 10): a consume benchmark of the candidate clients behind the same
 * small interface (bench/kafka-clients/candidates.ts), on the same topics in one run, interleaved
 * round by round, with kcat as the ceiling. Not a test: it prints figures.
 *
 *   (cd bench/kafka-clients && npm install)     # the candidates; see BENCHMARKS.md for the librdkafka build
 *   npx tsx bench/kafka-clients/bench.ts
 *
 * Knobs (env): MESSAGES (300000), ROUNDS (5), CODECS (none,lz4,zstd: one topic per kcat -z codec),
 * CANDIDATES (kcat,kafkajs,platformatic,confluent-kafkajs,confluent-native), PARTITIONS (3),
 * TIMEOUT_S (120 per run), KEEP_TOPICS=1, CKJS_CONF / CKJS_CONSUME_N (see candidates.ts).
 *
 * The topics are named `_bench-kc-…` (a leading `_` is internal: no logway node reads them as
 * logs, docs/design.md §2) and deleted at the end. Each candidate run is a fresh child process
 * (child.ts): connect, read every message from offset 0 of each partition, JSON.parse each value;
 * its wall time includes connecting and joining (as kcat's does). The order of the candidates
 * rotates each round so none is always first after kcat warmed the broker's page cache.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { scriptArgs } from '../lib/setup';

scriptArgs({
  usage: '(cd bench/kafka-clients && npm install) && npx tsx bench/kafka-clients/bench.ts',
  about:
    'Kafka client choice: a consume benchmark of the candidate clients behind one small interface (candidates.ts), on the same topics, ' +
    'interleaved round by round, with kcat as the ceiling. Each run is a fresh child process (child.ts). Not a test.',
  env: {
    MESSAGES: 'messages per topic (300000)',
    ROUNDS: 'rounds (5)',
    CODECS: 'one topic per kcat -z codec (none,lz4,zstd)',
    CANDIDATES: 'kcat,kafkajs,platformatic,confluent-kafkajs,confluent-native',
    PARTITIONS: 'partitions per topic (3)',
    TIMEOUT_S: 'seconds per run (120)',
    KEEP_TOPICS: '1 keeps the topics',
    'CKJS_CONF, CKJS_CONSUME_N': 'see candidates.ts',
    KAFKA_BROKERS: 'the broker (127.0.0.1:9092)',
  },
  prints:
    'the load and each round per codec and candidate, then a Markdown table of the medians: msgs/s, × kcat, steady msgs/s, CPU s per 100k, peak RSS, runs ok.',
  needs: 'Kafka (its _bench-kc-… topics are created here and deleted at the end), kcat, the candidates installed in bench/kafka-clients.',
});

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const MESSAGES = env('MESSAGES', 300000);
const ROUNDS = env('ROUNDS', 5);
const PARTITIONS = env('PARTITIONS', 3);
const TIMEOUT_S = env('TIMEOUT_S', 120);
const BROKER = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const CODECS = (process.env.CODECS ?? 'none,lz4,zstd').split(',').filter(Boolean);
const CANDIDATES = (process.env.CANDIDATES ?? 'kcat,kafkajs,platformatic,confluent-kafkajs,confluent-native').split(',').filter(Boolean);

interface Run {
  candidate: string;
  count?: number;
  malformed?: number;
  wallS?: number;
  steadyS?: number;
  cpuS?: number;
  peakRssMb?: number;
  error?: string;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** One Akkeris app-log message (docs/design.md §2), 10 apps, a realistic router-ish line. */
function message(i: number, space: string): string {
  const app = `app${i % 10}`;
  const t = new Date(1_780_000_000_000 + i).toISOString();
  return JSON.stringify({
    log: `${t} GET /api/items/${(i * 7919) % 100_000} 200 ${i % 97} ms request_id=${((i * 2654435761) >>> 0).toString(16)}\n`,
    stream: i % 7 === 0 ? 'stderr' : 'stdout',
    time: t,
    docker: { container_id: 'a3b1c2d4e5f6' },
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

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; countLines?: boolean; timeoutS: number },
): Promise<{ code: number | null; stdout: string; lines: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let lines = 0;
    child.stdout.on('data', (d: Buffer) => {
      if (opts.countLines) {
        for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
      } else stdout += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutS * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, lines });
    });
  });
}

async function kcatRun(topic: string): Promise<Run> {
  const timeFile = path.join(os.tmpdir(), `bench-kc-time-${process.pid}`);
  const r = await run('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, 'kcat', '-C', '-b', BROKER, '-t', topic, '-o', 'beginning', '-e', '-q'], {
    countLines: true,
    timeoutS: TIMEOUT_S,
  });
  if (r.code !== 0) return { candidate: 'kcat', error: `exit ${r.code}` };
  const [wall, user, sys, maxKb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { candidate: 'kcat', count: r.lines, wallS: wall, cpuS: user + sys, peakRssMb: maxKb / 1024 };
}

async function childRun(candidate: string, topic: string): Promise<Run> {
  const from = JSON.stringify(Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, offset: '0' })));
  const r = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, 'child.ts'), candidate, topic, String(MESSAGES), from], {
    timeoutS: TIMEOUT_S,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const o = JSON.parse(last) as Run & { error?: string };
    return o.error ? { candidate, error: o.error } : { ...o, candidate };
  } catch {
    return { candidate, error: r.code === null ? `killed after ${TIMEOUT_S} s` : `exit ${r.code}: ${last.slice(0, 200)}` };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-kc', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const tag = crypto.randomBytes(3).toString('hex');
  const topics = CODECS.map((codec) => ({ codec, topic: `_bench-kc-${tag}-${codec}` }));
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, kcat ${
      /Version (\S+).*?(librdkafka \S+)/
        .exec((await run('kcat', ['-V'], { timeoutS: 10 })).stdout)
        ?.slice(1)
        .join(' ') ?? '?'
    }`,
  );
  console.log(`load ${load()}: producing ${MESSAGES} Akkeris app-log messages to ${topics.length} topics of ${PARTITIONS} partitions with kcat -P -z <codec>`);

  const file = path.join(os.tmpdir(), `bench-kc-${tag}.jsonl`);
  const out = fs.createWriteStream(file);
  for (let i = 0; i < MESSAGES; i++) out.write(`${message(i, 'benchspace')}\n`);
  await new Promise<void>((r) => out.end(r));
  await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: PARTITIONS, replicationFactor: 1 })), waitForLeaders: true });
  try {
    for (const { codec, topic } of topics) {
      const p = await run('kcat', ['-P', '-b', BROKER, '-t', topic, '-z', codec, '-l', file], { timeoutS: 300 });
      if (p.code !== 0) throw new Error(`kcat -P -z ${codec} exited ${p.code}`);
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
      if (total !== MESSAGES) throw new Error(`${topic}: ${total} messages, expected ${MESSAGES}`);
      console.log(
        `  ${topic}: ${total} messages (${offsets.map((o) => o.high).join('/')} per partition), ${(fs.statSync(file).size / 1048576).toFixed(1)} MiB uncompressed`,
      );
    }
    fs.unlinkSync(file);

    const results = new Map<string, Run[]>(); // key codec/candidate
    for (let round = 0; round < ROUNDS; round++) {
      const order = CANDIDATES.slice(round % CANDIDATES.length).concat(CANDIDATES.slice(0, round % CANDIDATES.length));
      for (const { codec, topic } of topics) {
        console.log(`round ${round + 1}/${ROUNDS} ${codec}: load ${load()}`);
        for (const c of order) {
          const r = c === 'kcat' ? await kcatRun(topic) : await childRun(c, topic);
          const key = `${codec}/${c}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          if (r.error) console.log(`  ${c.padEnd(18)} FAILED: ${r.error}`);
          else
            console.log(
              `  ${c.padEnd(18)} ${String(r.count).padStart(7)} msgs${r.malformed ? ` (${r.malformed} malformed)` : ''} ${r.wallS!.toFixed(2)} s → ${Math.round(r.count! / r.wallS!)} msgs/s` +
                `${r.steadyS ? ` (steady ${Math.round(r.count! / r.steadyS)})` : ''}, CPU ${r.cpuS!.toFixed(2)} s, peak RSS ${r.peakRssMb!.toFixed(0)} MB`,
            );
        }
      }
    }
    console.log(`\nload at the end ${load()}`);
    console.log(`\nmedians of ${ROUNDS} rounds, ${MESSAGES} messages per run (msgs/s start to end incl. connect; steady = first message to last)\n`);
    console.log('| topic | client | msgs/s | × kcat | steady msgs/s | CPU s per 100k | peak RSS MB | runs ok |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|');
    for (const { codec } of topics) {
      const kcat = (results.get(`${codec}/kcat`) ?? []).filter((r) => !r.error && r.count === MESSAGES);
      const kcatRate = median(kcat.map((r) => r.count! / r.wallS!));
      for (const c of CANDIDATES) {
        const all = results.get(`${codec}/${c}`) ?? [];
        const ok = all.filter((r) => !r.error && r.count === MESSAGES);
        const rate = median(ok.map((r) => r.count! / r.wallS!));
        const steady = ok.some((r) => r.steadyS) ? Math.round(median(ok.map((r) => r.count! / r.steadyS!))).toLocaleString('en') : '—';
        const errs = [...new Set(all.filter((r) => r.error || r.count !== MESSAGES).map((r) => r.error ?? `count ${r.count}`))];
        console.log(
          ok.length
            ? `| ${codec} | ${c} | ${Math.round(rate).toLocaleString('en')} | ${(rate / kcatRate).toFixed(2)} | ${steady} | ${median(ok.map((r) => (r.cpuS! * 100000) / r.count!)).toFixed(2)} | ${median(ok.map((r) => r.peakRssMb!)).toFixed(0)} | ${ok.length}/${all.length}${errs.length ? ` (${errs.join('; ')})` : ''} |`
            : `| ${codec} | ${c} | failed | — | — | — | — | 0/${all.length} (${errs.join('; ')}) |`,
        );
      }
    }
  } finally {
    if (!process.env.KEEP_TOPICS)
      await admin.deleteTopics({ topics: topics.map((t) => t.topic) }).catch((e) => console.error(`deleting topics: ${(e as Error).message}`));
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
