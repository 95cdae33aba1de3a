/**
 * The web console in Debian's chromium (issue 12). Not a test: it prints figures.
 *
 *   npx tsx bench/console.ts
 *
 * Knobs (env): RATE (lines/s into the live view, 5000), DURATION (s, 20), HEAP_LINES (50000).
 *
 * - first load: bytes on the wire (Resource Timing transferSize) for the page and its bundles, as
 *   Chromium fetches them over http (gzip; Chromium sends `br` only over https) and the br figure;
 * - time to first line: from opening an app's logs (hash change) to its first line in the view;
 * - RATE lines/s for DURATION s: animation frames drawn, frames missed against 60 Hz, long tasks
 *   (PerformanceObserver 'longtask': count and total ms), lines held at the end;
 * - JS heap (after a forced GC) once the view holds HEAP_LINES lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createCore } from '../lib/core';
import { createLogger } from '../lib/logger';
import { startServer } from '../bin/wiring';
import { findConsoleDir } from '../lib/console';
import { testConfig, uniqueName, TEST_API_KEY } from '../spec/helpers/env';
import { produceLines } from '../spec/helpers/drain-fixtures';
import { launchBrowser } from '../spec/helpers/browser';
import { prepareStack, scriptArgs } from './lib/setup';

scriptArgs({
  usage: 'npx tsx bench/console.ts   (after npm run build: it serves the built console)',
  about: "The web console in Debian's chromium: first load, time to first line, a steady stream of lines, the JS heap. Not a test.",
  env: {
    RATE: 'lines/s into the live view (5000)',
    DURATION: 'seconds of that stream (20)',
    HEAP_LINES: 'lines held when the heap is measured (50000)',
    'TEST_DATABASE_URL, TEST_INFLUX_DB, KAFKA_BROKERS': 'the stack (the local test databases)',
  },
  prints:
    'bytes of the first load (transferred, raw, gzip, br); ms to the first history line and to a live line; frames drawn and missed, long tasks, lines held; the JS heap.',
  needs: 'the built console, chromium, Kafka, PostgreSQL (migrated here), InfluxDB (its test database, created here).',
});

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const RATE = env('RATE', 5000);
const DURATION = env('DURATION', 20);
const HEAP_LINES = env('HEAP_LINES', 50000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const performance: any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function main(): Promise<void> {
  const dir = findConsoleDir();
  if (!dir) throw new Error('the console is not built: npm run build');
  const config = testConfig({ LOG_LEVEL: 'error' });
  await prepareStack({ databaseUrl: config.databaseUrl, influx: { url: config.influxUrl, token: config.influxToken, databases: [config.influxDb] } });
  const core = createCore(config, { logger: createLogger('error'), defaultMetrics: false });
  const space = uniqueName('bcon');
  const app = uniqueName('b');
  const appKey = `${app}-${space}`;
  await core.kafka.createTopic(space, 1);
  const node = await startServer(config, { core, features: { tail: { topicPollMs: 250 }, drains: { worker: false } } });
  const base = `http://127.0.0.1:${node.port}`;
  await core.apps.register(appKey);
  await produceLines(core, { app, space, tag: 'history', count: 100, dynos: 3 });
  const browser = await launchBrowser({ extraArgs: ['--enable-precise-memory-info'] });
  const page = browser.page;
  try {
    // First load, cold profile.
    await page.goto(base);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('link', { name: appKey }).waitFor();
    const transfer = await page.evaluate(() =>
      [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
        .filter((e: { name: string }) => /\/($|console\/)/.test(new URL(e.name).pathname))
        .reduce((n: number, e: { transferSize: number }) => n + e.transferSize, 0),
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { js: string; css: string };
    const sizes = ['index.html', manifest.js, manifest.css].map((f) => fs.readFileSync(path.join(dir, f)));
    const raw = sizes.reduce((n, b) => n + b.length, 0);
    const gz = sizes.reduce((n, b) => n + zlib.gzipSync(b, { level: 9 }).length, 0);
    const br = sizes.reduce((n, b) => n + zlib.brotliCompressSync(b).length, 0);
    console.log(
      `first load: ${(transfer / 1024).toFixed(1)} KiB transferred (headers included); bundles ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip, ${(br / 1024).toFixed(1)} KiB br`,
    );

    // Time to first line after opening the app.
    const t0 = Date.now();
    await page.evaluate((key: string) => (window.location.hash = `#/apps/${key}/logs`), appKey);
    await page.waitForFunction(() => window.logwayConsole.shown().length > 0, undefined, { polling: 'raf' });
    console.log(`time to first line (history) after opening the app: ${Date.now() - t0} ms`);
    await page.locator('[data-testid="log-status"][data-state="live"]').waitFor();
    const t1 = Date.now();
    await produceLines(core, { app, space, tag: 'first-live', count: 1, dynos: 1 });
    await page.waitForFunction(() => window.logwayConsole.shown().some((l: string) => l.includes('first-live ')), undefined, { polling: 'raf' });
    console.log(`time to a live line (produce → on screen): ${Date.now() - t1} ms`);

    // RATE lines/s for DURATION s.
    // A string, not a function: tsx would wrap named functions in a helper the page does not have.
    await page.evaluate(`(() => {
      const w = window;
      w.__bench = { frames: 0, longTasks: 0, longMs: 0, running: true };
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          w.__bench.longTasks++;
          w.__bench.longMs += e.duration;
        }
      }).observe({ type: 'longtask', buffered: false });
      const tick = () => {
        if (!w.__bench.running) return;
        w.__bench.frames++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const started = Date.now();
    const perTick = Math.round(RATE / 10);
    let produced = 0;
    const cdp = await browser.context.newCDPSession(page);
    for (let i = 0; i < DURATION * 10; i++) {
      const due = started + i * 100;
      if (Date.now() < due) await sleep(due - Date.now());
      await produceLines(core, { app, space, tag: `rate${i}`, count: perTick, dynos: 3, chunk: Math.min(perTick, 1000) });
      produced += perTick;
    }
    const elapsed = (Date.now() - started) / 1000;
    await sleep(1000);
    const b = await page.evaluate(() => {
      window.__bench.running = false;
      return { ...window.__bench, held: window.logwayConsole.lines().length };
    });
    const expected = Math.round(elapsed * 60);
    console.log(
      `${RATE} lines/s for ${DURATION} s (${produced} produced in ${elapsed.toFixed(1)} s): ${b.frames} frames (${Math.max(0, expected - b.frames)} missed of ~${expected} at 60 Hz), ` +
        `${b.longTasks} long tasks (${Math.round(b.longMs)} ms in all), ${b.held} lines held`,
    );

    // Heap once the view holds HEAP_LINES (it already holds more after the run: measure at the bound too).
    await page.evaluate(() => window.location.reload());
    await page.locator('[data-testid="log-status"][data-state="live"]').waitFor();
    for (let n = 0; n < HEAP_LINES; n += 5000) await produceLines(core, { app, space, tag: `heap${n}`, count: 5000, dynos: 3, chunk: 1000 });
    await page.waitForFunction((n: number) => window.logwayConsole.lines().length >= n, HEAP_LINES, { polling: 500, timeout: 120_000 });
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
    console.log(`JS heap with ${HEAP_LINES} lines held: ${(heap / 1024 / 1024).toFixed(1)} MiB`);
  } finally {
    await browser.close();
    await node.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
