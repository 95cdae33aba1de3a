/**
 * A real client: the Heroku CLI from npm (installed by scripts/test-deps.d/heroku.sh into
 * .stack/tools/heroku) pointed at a listening logway with HEROKU_HOST. It calls GET /apps/APP,
 * POST /apps/APP/log-sessions, then reads logplex_url as SSE (docs/design.md §3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, execFile } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { createApp } from '../../bin/wiring';
import type { Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { uniqueName, TEST_API_KEY, REPO_ROOT } from '../helpers/env';
import { TailNode } from '../helpers/tail-node';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

const HEROKU = path.join(REPO_ROOT, '.stack', 'tools', 'heroku', 'node_modules', '.bin', 'heroku');
const available = fs.existsSync(HEROKU);
if (!available) {
  // Visible in the jest output, never a silent pass.
  console.warn(`heroku CLI test SKIPPED: ${HEROKU} is missing; run scripts/test-deps.d/heroku.sh (needs npm registry access).`);
}
const maybe = available ? describe : describe.skip;

maybe('the heroku CLI against logway', () => {
  let node: TailNode;
  let core: Core;
  let feature: TailFeature;
  let base: string;
  let home: string;
  const space = uniqueName('hk');
  const app = uniqueName('h');
  const key = `${app}-${space}`;

  const produce = (logs: string[]) => node.produce(app, logs);
  /** A generous bound: the CLI is a node program starting on a shared machine. */
  const until = (fn: () => boolean | Promise<boolean>, ms = 20000) => waitFor('the heroku CLI', fn, ms);

  const env = () => ({
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    HEROKU_HOST: base,
    HEROKU_API_KEY: TEST_API_KEY,
    HEROKU_SKIP_ANALYTICS: '1',
    HEROKU_DISABLE_AUTOUPDATE: '1',
    HEROKU_UPDATE_INSTRUCTIONS: 'none',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  });

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'logway-heroku-'));
    node = await TailNode.start({ space, feature: { reading: 'every-topic' } });
    ({ core, feature, base } = node);
  });

  afterAll(async () => {
    await node?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('`heroku logs -a APP -n 5` prints the last 5 lines and exits 0', async () => {
    const lines = await produce(Array.from({ length: 7 }, (_, i) => `heroku line ${i}`));
    await until(async () => Boolean(await core.apps.find(key)) && feature.hub.rings.peek(key)?.size === 7);
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(HEROKU, ['logs', '-a', key, '-n', '5'], { env: env(), timeout: 90_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect({ code, stderr: code ? stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n').filter(Boolean)).toEqual(lines.slice(2));
  });

  it('`heroku logs --tail` prints history, then live lines', async () => {
    const before = await produce(['tail history']);
    await node.consumed(key, 'tail history');
    const child = spawn(HEROKU, ['logs', '-a', key, '-n', '1', '--tail'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await until(() => out.includes(before[0]), 60000);
      const live = await produce(['tail live']);
      await until(() => out.includes(live[0]), 30000);
      expect(out.split('\n').filter(Boolean)).toEqual([...before, ...live]);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a stream ended at MAX_STREAM_SECONDS: the logway-close event is never printed as a log line', async () => {
    // A second node on the same core whose streams live 2 s; it counts the stream requests it serves.
    const shortServer = http.createServer();
    await new Promise<void>((r) => shortServer.listen(0, '127.0.0.1', r));
    const shortBase = `http://127.0.0.1:${(shortServer.address() as AddressInfo).port}`;
    // Its own publicUrl, so the logplex_urls it hands out point at it.
    const shortCore = { ...core, config: { ...core.config, publicUrl: shortBase } };
    const short = createTailFeature(shortCore, { reading: 'every-topic', topicPollMs: 250, maxStreamSeconds: 2 });
    const handler = createApp(shortCore, [short]);
    const opened: number[] = [];
    shortServer.on('request', (req, res) => {
      if (req.url?.startsWith('/log-sessions/')) opened.push(Date.now());
      handler(req, res);
    });
    await short.start();
    const before = await produce(['short-lived history']);
    await node.consumed(key, 'short-lived history');
    const child = spawn(HEROKU, ['logs', '-a', key, '-n', '1', '--tail'], { env: { ...env(), HEROKU_HOST: shortBase }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let exit: number | null | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => (exit = code));
    try {
      await until(() => out.includes(before[0]), 60000);
      // The first stream has ended (closing event sent) once the CLI exits or opens the URL again.
      await until(() => exit !== undefined || opened.length >= 2, 60000);
      // Let it handle what followed the closing event before reading its output.
      await until(() => exit !== undefined || opened.length >= 3 || out.split('\n').filter(Boolean).length > 1, 10000).catch(() => undefined);
      const printed = `${out}\n${err}`;
      expect(printed).not.toContain('logway-close');
      expect(printed).not.toContain('Stream closed');
      expect(printed).not.toContain('"reason"');
      // Heroku CLI 11.10 reconnects (after the stream's `retry:` hint) with Last-Event-ID, so the
      // resumed stream replays no history: the one line is printed once.
      expect(out.split('\n').filter(Boolean)).toEqual(before);
      // What it does after the close, for docs/operations.md: exits, or reconnects to the same logplex_url.
      if (process.env.HEROKU_CLOSE_LOG)
        fs.writeFileSync(process.env.HEROKU_CLOSE_LOG, JSON.stringify({ exit, opened: opened.map((t) => t - opened[0]), out, err }, null, 2));
    } finally {
      child.kill('SIGTERM');
      await short.stop();
      shortServer.closeAllConnections();
      await new Promise<void>((r) => shortServer.close(() => r()));
    }
  });
});
