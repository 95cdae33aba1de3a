/**
 * The web console in a real browser (Debian's chromium through playwright-core) against a real
 * logway node on the real stack: the key, the app list, live lines from Kafka, a dyno filter,
 * pause/resume, a node restart mid-stream, metric charts, drains (delivered and refused), a
 * line parked in the DLQ, and health; an axe-core audit and a screenshot of each page.
 */
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { Core, createCore } from '../../lib/core';
import { createLogger } from '../../lib/logger';
import { startServer, RunningServer, FeaturesOptions } from '../../bin/wiring';
import { CONSOLE_CSP } from '../../lib/console';
import { instancesFor, writeSamples } from '../../scripts/sample-metrics';
import { testConfig, uniqueName, TEST_API_KEY } from '../helpers/env';
import { produceLines, waitFor } from '../helpers/drain-fixtures';
import { Browser, launchBrowser, screenshot, seriousViolations } from '../helpers/browser';

jest.setTimeout(120_000);

const space = uniqueName('con');
const appName = uniqueName('web');
const appKey = `${appName}-${space}`;
const dyno = (n: number) => `web.1562910588-d${n}`;

let port = 0;
let node: RunningServer;
let browser: Browser;
let page: Page;
let base = '';
const cspErrors: string[] = [];

function features(): FeaturesOptions {
  return {
    tail: { reading: 'every-topic', topicPollMs: 250 },
    drains: {
      groupId: uniqueName('console-drains-'),
      topicRefreshMs: 500,
      commitIntervalMs: 200,
      dlqPollMs: 300,
      retry: { baseMs: 20, capMs: 200, attempts: 2 },
    },
  };
}

async function startNode(overrides: Record<string, string> = {}): Promise<RunningServer> {
  const config = testConfig({ PORT: String(port), ...overrides });
  const core: Core = createCore(config, { logger: createLogger(config.logLevel), defaultMetrics: false });
  const n = await startServer(config, { core, features: features() });
  port = n.port;
  base = `http://127.0.0.1:${port}`;
  return n;
}

/** The console's own test hooks (web/src/main.ts): the lines held, those on screen, the charts' data. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any;
const held = () => page.evaluate(() => (window as unknown as { logwayConsole: { lines(): string[] } }).logwayConsole.lines());
const shown = () => page.evaluate(() => (window as unknown as { logwayConsole: { shown(): string[] } }).logwayConsole.shown());
const withTag = (lines: string[], tag: string) => lines.filter((l) => l.includes(`${tag} `));

/** Lines produced while no node runs. */
async function produceWhileDown(tag: string, count: number): Promise<void> {
  const config = testConfig();
  const producer = createCore(config, { logger: createLogger(config.logLevel), defaultMetrics: false });
  try {
    await produceLines(producer, { app: appName, space, tag, count, dynos: 1 });
  } finally {
    await producer.kafka.close();
    producer.influx.close();
    await producer.db.close();
  }
}

async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(cond, what, 100_000, 100);
}

async function live(): Promise<void> {
  await page.locator('[data-testid="log-status"][data-state="live"]').waitFor();
}

async function audit(name: string): Promise<void> {
  await screenshot(page, name);
  expect(await seriousViolations(page)).toEqual([]);
}

beforeAll(async () => {
  const config = testConfig();
  const setup = createCore(config, { logger: createLogger(config.logLevel), defaultMetrics: false });
  await setup.kafka.createTopic(space, 1);
  await setup.kafka.close();
  setup.influx.close();
  await setup.db.close();
  node = await startNode();
  await node.core.apps.register(appKey);
  browser = await launchBrowser();
  page = browser.page;
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  if (node) {
    await node.core.db.query('DELETE FROM log_drains WHERE token = $1', [appKey]).catch(() => undefined);
    await node.stop();
  }
});

describe('the web console', () => {
  it('is served with a strict CSP, index no-cache, hashed assets cached for a year', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son\w+=/i);
    const js = /src="(\/console\/app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(`${base}${js}`, { headers: { 'Accept-Encoding': 'br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/console/app-NOTTHERE.js`)).status).toBe(404);
  });

  it('asks for the API key once, then lists the apps logway knows', async () => {
    await page.goto(base);
    await page.getByLabel('API key').waitFor();
    await audit('01-sign-in');
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('That API key was refused (401)').waitFor();
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('link', { name: appKey }).waitFor();
    await page.reload();
    // Kept in sessionStorage: no second prompt in this tab.
    await page.getByRole('link', { name: appKey }).waitFor();
    expect(await page.getByLabel('API key').count()).toBe(0);
    await page.getByLabel('Search apps').fill(appName);
    expect(await page.locator('[data-testid="apps"] a').allTextContents()).toEqual([appKey]);
    await audit('02-apps');
  });

  it('opens an app and shows a line produced to Kafka after the page opened', async () => {
    await page.getByRole('link', { name: appKey }).click();
    await live();
    await produceLines(node.core, { app: appName, space, tag: 'first', count: 1, dynos: 1 });
    await eventually(async () => withTag(await shown(), 'first').length === 1, 'the line on screen');
    await produceLines(node.core, { app: appName, space, tag: 'colour', count: 6, dynos: 3 });
    await eventually(async () => withTag(await shown(), 'colour').length === 6, 'six more lines');
    await audit('03-live-logs');
  });

  it('a dyno filter (server side) hides the other dynos', async () => {
    await page.getByLabel('Dyno or process type').fill(dyno(1));
    await page.getByRole('button', { name: 'Apply & tail' }).click();
    await live();
    await produceLines(node.core, { app: appName, space, tag: 'dyn', count: 9, dynos: 3 });
    // One partition: once the last d1 line is here, every d0/d2 line before it has been through the hub.
    await eventually(async () => withTag(await held(), 'dyn').length >= 3 && (await held()).some((l) => l.includes(`dyn ${dyno(1)} 7`)), 'the d1 lines');
    const lines = withTag(await held(), 'dyn');
    expect(lines.map((l) => l.replace(/^.*: /, ''))).toEqual([1, 4, 7].map((i) => `dyn ${dyno(1)} ${i}`));
    await page.getByLabel('Dyno or process type').fill('');
    await page.getByRole('button', { name: 'Apply & tail' }).click();
    await live();
  });

  it('pausing keeps receiving; resuming shows every line once, in order', async () => {
    await page.getByTestId('pause').click();
    expect(await page.getByTestId('pause').getAttribute('aria-pressed')).toBe('true');
    await produceLines(node.core, { app: appName, space, tag: 'paused', count: 50, dynos: 1 });
    await eventually(async () => withTag(await held(), 'paused').length === 50, 'the 50 lines received while paused');
    expect(withTag(await shown(), 'paused')).toEqual([]);
    await page.getByTestId('pause').click();
    const after = withTag(await shown(), 'paused').map((l) => l.replace(/^.*: /, ''));
    expect(after).toEqual(Array.from({ length: 50 }, (_, i) => `paused ${dyno(0)} ${i}`));
    await audit('04-paused-resumed');
  });

  it('a from/to range reads history; the highlight marks matches; download saves what is shown', async () => {
    const local = (d: Date) => d.toISOString().slice(0, 16);
    await page.getByLabel('From', { exact: true }).fill(local(new Date(Date.now() - 3600_000)));
    await page.getByLabel('To', { exact: true }).fill(local(new Date(Date.now() + 120_000)));
    await page.getByRole('button', { name: 'Show range' }).click();
    await page.locator('[data-testid="log-status"][data-state="range"]').getByText(/lines/).waitFor();
    const range = (await shown()).map((l) => l.replace(/^.*: /, ''));
    expect(range.filter((l) => l.startsWith('paused '))).toEqual(Array.from({ length: 50 }, (_, i) => `paused ${dyno(0)} ${i}`));
    await page.getByLabel('Highlight').fill('paused web');
    await eventually(async () => (await page.locator('[data-testid="logview"] mark').count()) > 0, 'marked matches');
    expect(new Set(await page.locator('[data-testid="logview"] mark').allTextContents())).toEqual(new Set(['paused web']));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download shown lines' }).click()]);
    const file = await download.path();
    expect(fs.readFileSync(file, 'utf8')).toBe(`${(await shown()).join('\n')}\n`);
    await page.getByLabel('Highlight').fill('');
    await page.getByRole('button', { name: 'Apply & tail' }).click();
    await live();
  });

  it('a node restart mid-stream: the view resumes without a gap or a duplicate', async () => {
    await produceLines(node.core, { app: appName, space, tag: 'before', count: 20, dynos: 1 });
    await eventually(async () => withTag(await held(), 'before').length === 20, 'the lines before the restart');
    await node.stop();
    await produceWhileDown('during', 20);
    node = await startNode();
    await eventually(async () => withTag(await held(), 'during').length >= 20, 'the lines produced while no node ran').catch(async (e) => {
      const status = await page.getByTestId('log-status').textContent();
      const sessions = await page.evaluate(() => window.logwayConsole.sessions());
      const tail = (await held()).slice(-25).map((l) => l.replace(/^.*: /, ''));
      throw new Error(`${(e as Error).message}; status: ${status}; sessions: ${sessions}; held: ${JSON.stringify(tail)}`);
    });
    await produceLines(node.core, { app: appName, space, tag: 'after', count: 20, dynos: 1 });
    await eventually(async () => withTag(await held(), 'after').length >= 20, 'the lines after the restart').catch(async (e) => {
      const status = await page.getByTestId('log-status').textContent();
      const tags = (await held()).map((l) => l.replace(/^.*: /, '').split(' ')[0]);
      throw new Error(`${(e as Error).message}; status: ${status}; held: ${JSON.stringify([...new Set(tags)])}`);
    });
    const lines = (await held()).filter((l) => / (before|during|after) /.test(l)).map((l) => l.replace(/^.*: /, ''));
    const expected = ['before', 'during', 'after'].flatMap((tag) => Array.from({ length: 20 }, (_, i) => `${tag} ${dyno(0)} ${i}`));
    expect(lines).toEqual(expected);
  });

  it('a session URL that can no longer be opened: a new session from the last line, without gap or duplicate', async () => {
    const sessions = () => page.evaluate(() => window.logwayConsole.sessions() as number);
    const before = await sessions();
    await produceLines(node.core, { app: appName, space, tag: 'pre', count: 10, dynos: 1 });
    await eventually(async () => withTag(await held(), 'pre').length === 10, 'the lines before');
    await node.stop();
    await produceWhileDown('gap', 10);
    // Another session secret: the old logplex_url is now a 404, so EventSource gives up on it.
    node = await startNode({ SESSION_SECRET: 'another-session-secret-0123456789abcdef' });
    await eventually(
      async () => (await sessions()) === before + 1 && withTag(await held(), 'gap').length >= 10,
      'a new session and the lines produced meanwhile',
    );
    await produceLines(node.core, { app: appName, space, tag: 'post', count: 10, dynos: 1 });
    await eventually(async () => withTag(await held(), 'post').length >= 10, 'the lines after');
    const lines = (await held()).filter((l) => / (pre|gap|post) /.test(l)).map((l) => l.replace(/^.*: /, ''));
    expect(lines).toEqual(['pre', 'gap', 'post'].flatMap((tag) => Array.from({ length: 10 }, (_, i) => `${tag} ${dyno(0)} ${i}`)));
  });

  it('the metrics tab draws one chart per metric, mean and p90 per process type, with every bucket', async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    const from = hour - 3 * 3600;
    const to = hour - 3600;
    const instances = instancesFor(appKey, 2);
    await writeSamples(node.core.influx, { appKey, instances, from: from - 3600, to: hour, interval: 60 });
    const api = await fetch(`${base}/apps/${appKey}/metrics?resolution=10m&from=${from}&to=${to}`, { headers: { Authorization: TEST_API_KEY } });
    const body = (await api.json()) as Record<string, Record<string, Record<string, number>>>;
    const metrics = Object.keys(body.web).sort();
    expect(metrics.length).toBeGreaterThan(10);

    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.getByLabel('Resolution').selectOption('10m');
    await page.getByLabel('Range', { exact: true }).selectOption('custom');
    const local = (s: number) => new Date(s * 1000).toISOString().slice(0, 16);
    await page.getByLabel('From', { exact: true }).fill(local(from));
    await page.getByLabel('To', { exact: true }).fill(local(to));
    await page.getByRole('button', { name: 'Show' }).click();
    await eventually(
      async () =>
        (await page.locator('[data-metric]').count()) === metrics.length && (await page.getByTestId('metrics-status').textContent())?.includes('10m') === true,
      'the charts',
    );
    const charts = await page.evaluate(() =>
      (window as unknown as { logwayConsole: { charts(): { metric: string; series: string[]; points: number }[] } }).logwayConsole.charts(),
    );
    expect(charts.map((c) => c.metric).sort()).toEqual(metrics);
    for (const c of charts) {
      expect(c.points).toBe(12); // 2 h of 10 min buckets
      expect(c.series).toEqual(['web mean', 'web p90', 'worker mean', 'worker p90']);
    }
    await audit('05-metrics');
  });

  it('drains: a local sink is added, listed and receives lines; a refused destination shows the API message', async () => {
    const received: string[] = [];
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    try {
      const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/logs`;
      await page.getByRole('link', { name: 'Drains' }).click();
      await page.getByLabel('Drain URL').fill(sinkUrl);
      await page.getByRole('button', { name: 'Add drain' }).click();
      await page.getByRole('heading', { name: sinkUrl }).waitFor();
      await eventually(async () => {
        await produceLines(node.core, { app: appName, space, tag: 'drained', count: 3, dynos: 1 });
        await new Promise((r) => setTimeout(r, 500));
        return received.some((b) => b.includes('drained '));
      }, 'lines delivered to the sink');
      await eventually(async () => Number(await page.locator('[data-figure="delivered"]').first().textContent()) > 0, 'the delivered figure');

      const refused = 'http://169.254.169.254/latest';
      const api = await fetch(`${base}/apps/${appKey}/log-drains`, {
        method: 'POST',
        headers: { Authorization: TEST_API_KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: refused }),
      });
      expect(api.status).toBe(422);
      const { message } = (await api.json()) as { message: string };
      await page.getByLabel('Drain URL').fill(refused);
      await page.getByRole('button', { name: 'Add drain' }).click();
      await page.getByTestId('drain-error').getByRole('alert').waitFor();
      expect(await page.getByTestId('drain-error').textContent()).toBe(message);
      await audit('06-drains');
    } finally {
      sink.close();
    }
  });

  it('drains: a line parked in the DLQ shows as the log line it is', async () => {
    // A receiver that always fails: with two attempts (features()), each line it is sent is parked.
    const failing = http.createServer((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    try {
      const failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/refuses`;
      const created = await fetch(`${base}/apps/${appKey}/log-drains`, {
        method: 'POST',
        headers: { Authorization: TEST_API_KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: failingUrl }),
      });
      expect(created.status).toBe(201);
      const drainId = ((await created.json()) as { id: string }).id;
      const parkedCount = async () => {
        const res = await fetch(`${base}/drains/dlq?drain=${drainId}&limit=0`, { headers: { Authorization: TEST_API_KEY } });
        return ((await res.json()) as { count: number }).count;
      };
      await eventually(async () => {
        await produceLines(node.core, { app: appName, space, tag: 'parked', count: 1, dynos: 1 });
        return (await parkedCount()) > 0;
      }, 'a line parked for the failing drain');

      await page.getByRole('link', { name: 'Drains' }).click();
      const drain = page.locator(`article[data-drain="${drainId}"]`);
      await drain.getByText(/^Parked lines \(\d+\)$/).click();
      const parked = drain.locator('li[data-dlq] code').filter({ hasText: 'parked web.' }).first();
      await parked.waitFor();
      const text = (await parked.textContent()) ?? '';
      expect(text).not.toContain('[object Object]');
      expect(text).toMatch(new RegExp(`^\\S+ ${appKey} app\\[${dyno(0).replace('.', '\\.')}\\]: parked ${dyno(0).replace('.', '\\.')} 0$`));
      await audit('06b-drains-dlq');
    } finally {
      failing.close();
    }
  });

  it('health shows readiness and its dependencies, and no page hit the CSP', async () => {
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByTestId('ready-state').waitFor();
    expect(await page.getByTestId('ready-state').textContent()).toBe('UP');
    await page.getByRole('rowheader', { name: 'kafka' }).waitFor();
    await audit('07-health');
    expect(cspErrors).toEqual([]);
  });
});
