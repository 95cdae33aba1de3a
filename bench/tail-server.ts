/**
 * A logway node with only the tail feature, for bench/tail-bench.ts (run as a child process so
 * its CPU and memory are its own). Prints one JSON line {port, pid} when listening; stops on
 * SIGTERM. Uses the test database/Kafka settings of spec/helpers/env.
 */
import http from 'node:http';
import v8 from 'node:v8';
import express from 'express';
import { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp, routerFor } from '../bin/wiring';
import { closeCore, createCore } from '../lib/core';
import { createLogger } from '../lib/logger';
import { createTailFeature } from '../lib/tail/feature';
import { withTailStreams } from '../lib/tail/stream-route';
import type { HubOptions } from '../lib/tail/hub';
import { testConfig } from '../spec/helpers/env';
import { scriptArgs } from './lib/setup';

scriptArgs({
  usage: 'BENCH_TOPIC=<topic> node --expose-gc --import tsx bench/tail-server.ts   (bench/tail-bench.ts starts it)',
  about:
    'A logway node with only the tail feature, reading only BENCH_TOPIC, for bench/tail-bench.ts. SIGUSR2: GC, then print the memory figures; SIGTERM: stop.',
  env: {
    BENCH_TOPIC: 'the one topic the hub reads',
    SESSION_BUFFER_LINES: 'live lines a session holds for a slow client (1000)',
    FLUSH_MS: "the tail feature's flushIntervalMs (its default)",
    HUB_OPTS: 'JSON hub options merged into the feature',
    LEAN_STREAMS: '0: stream URLs through Express too, for comparison',
    BARE_ROUTER: "1: the feature's router alone, without createApp's middleware",
    STAGES: "1: report where a line's time goes before the hub hands it on, at exit",
    HEAP_SNAPSHOT: 'a file to write a heap snapshot to on SIGUSR2',
    MAX_STREAMS_PER_APP: 'per-app session limit (100000)',
    LOG_LEVEL: 'warn',
  },
  prints: 'one JSON line {port, pid} once listening; one JSON line of memory figures per SIGUSR2.',
  needs: 'the test database migrated (bench/tail-bench.ts does it), Kafka.',
});

async function main(): Promise<void> {
  // The rss benchmark opens thousands of streams on one app: above the production per-app limit on purpose.
  const config = testConfig({
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    MAX_STREAM_SECONDS: '86400',
    MAX_STREAMS_PER_APP: process.env.MAX_STREAMS_PER_APP ?? '100000',
  });
  const core = createCore(config, { logger: createLogger(config.logLevel), defaultMetrics: false });
  const server = http.createServer();
  server.maxConnections = 100_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${port}`;
  const topic = process.env.BENCH_TOPIC;
  const stages = process.env.STAGES === '1' ? timeStages(core) : undefined;
  const feature = createTailFeature(core, {
    topicPollMs: 500,
    // Only the bench's topic: the shared dev Kafka holds other engineers' test topics.
    topicFilter: topic ? (t) => t === topic : undefined,
    sessionBufferLines: Number(process.env.SESSION_BUFFER_LINES ?? 1000),
    // FLUSH_MS: the feature's flushIntervalMs (unset: its default).
    flushIntervalMs: process.env.FLUSH_MS === undefined ? undefined : Number(process.env.FLUSH_MS),
    // Hub experiments, e.g. HUB_OPTS='{"fetchMaxBytes":33554432,"fetchMinBytes":1}'.
    ...(JSON.parse(process.env.HUB_OPTS ?? '{}') as HubOptions),
  });
  if (process.env.BARE_ROUTER === '1') {
    // Memory experiment: the feature's router alone, without createApp's per-request middleware.
    const app = express();
    app.use(routerFor(core, feature)!);
    server.on('request', app);
  } else if (process.env.LEAN_STREAMS === '0') {
    // The stream URL through Express too (before issue 10 item 6), for comparison.
    server.on('request', createApp(core, [feature]));
  } else {
    // As bin/wiring's startServer: the stream URL served ahead of Express.
    server.on('request', withTailStreams(core, [feature], createApp(core, [feature])));
  }
  await feature.start();
  process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);
  const stop = async () => {
    stages?.report();
    await feature.stop();
    server.closeAllConnections();
    server.close();
    await closeCore(core);
    process.exit(0);
  };
  // The bench asks for a GC and the memory figures (node is started with --expose-gc).
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    if (process.env.HEAP_SNAPSHOT) v8.writeHeapSnapshot(process.env.HEAP_SNAPSHOT);
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
  });
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

/**
 * STAGES=1: where a line's time goes before the hub hands it on, from every 10th record of the
 * hub's batches (the bench stamps \`t=<ms>\` into each line just before produce(); kafkajs stamps
 * the record when it encodes the produce request): stamp → record timestamp (the bench producer's
 * own queue), record → batch handed to the hub (broker append + fetch), the hub's handling of a
 * batch, and the event loop's delay. Printed to stderr at SIGTERM.
 */
function timeStages(core: ReturnType<typeof createCore>): { report(): void } {
  const hist = () => ({ n: 0, v: [] as number[] });
  const toSend = hist();
  const toHub = hist();
  const handle = hist();
  const batchSize = hist();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const consume = core.kafka.consume.bind(core.kafka);
  core.kafka.consume = (opts, eachBatch) =>
    consume(opts, async (batch) => {
      const now = Date.now();
      for (let i = 0; i < batch.records.length; i += 10) {
        const r = batch.records[i];
        const v = r.value?.toString('latin1') ?? '';
        const at = v.indexOf(' t=');
        if (at < 0) continue;
        const t = Number(v.slice(at + 3, at + 16));
        toSend.v.push(Number(r.timestamp) - t);
        toHub.v.push(now - Number(r.timestamp));
      }
      batchSize.v.push(batch.records.length);
      const t0 = performance.now();
      await eachBatch(batch);
      handle.v.push(performance.now() - t0);
    });
  const pct = (v: number[], p: number) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : NaN;
  };
  const line = (name: string, v: number[]) =>
    `${name}: p50 ${pct(v, 0.5).toFixed(1)} p99 ${pct(v, 0.99).toFixed(1)} max ${pct(v, 1).toFixed(1)} (n=${v.length})`;
  return {
    report() {
      process.stderr.write(
        [
          'stages (server):',
          line('  stamp -> record timestamp (bench producer queue), ms', toSend.v),
          line('  record timestamp -> hub batch (broker + fetch), ms', toHub.v),
          line('  hub batch handling, ms', handle.v),
          line('  records per batch', batchSize.v),
          `  event loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(1)} p99 ${(loop.percentile(99) / 1e6).toFixed(1)} max ${(loop.max / 1e6).toFixed(1)} ms`,
          '',
        ].join('\n'),
      );
    },
  };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
