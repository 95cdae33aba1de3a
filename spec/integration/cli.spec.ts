/**
 * The built `logway` binary (dist/bin/logway.js, from `npm run build`) against a real listening
 * logway wired by bin/wiring.ts. Cases whose feature is not wired there are skipped, saying why.
 */
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApp, createFeatures } from '../../bin/wiring';
import { closeCore, Core, Feature } from '../../lib/core';
import { BuildStore } from '../../lib/builds/store';
import type { KafkaRecord } from '../../lib/kafka';
import { createTestCore, REPO_ROOT, TEST_API_KEY, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';

jest.setTimeout(60000);

const BIN = path.join(REPO_ROOT, 'dist', 'bin', 'logway.js');
const core: Core = createTestCore();
// The CLI cases never need the build-log consumer (builds are written through the store).
const features: Feature[] = createFeatures(core, { builds: { consume: false }, drains: { worker: false } });
const started: Feature[] = [];
const wired = new Set(features.map((f) => f.name));
const hasRoute = (method: string, p: string) =>
  features.some((f) =>
    (f.router?.stack ?? []).some((l) => {
      const route = l.route as { path?: unknown; methods?: Record<string, boolean> } | undefined;
      return route?.path === p && Boolean(route.methods?.[method]);
    }),
  );

/** `it` when the feature is wired in bin/wiring.ts, else a skip with the reason printed once. */
function when(feature: string, present: boolean) {
  if (present) return it;
  console.log(`cli.spec: skipping the ${feature} cases: bin/wiring.ts does not wire the ${feature} feature yet`);
  return it.skip;
}
const withTail = when('tail (log sessions)', wired.has('tail'));
const withDrains = when('drains', wired.has('drains'));
const withMetrics = when('metrics', wired.has('metrics'));
const withBuilds = when('builds', hasRoute('get', '/apps/:app/builds/:id/result'));

let server: http.Server;
let apiUrl: string;
const space = uniqueName('clisp');
const appName = uniqueName('cliapp');
const appKey = `${appName}-${space}`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function logway(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', LOGWAY_API_URL: apiUrl, LOGWAY_API_KEY: TEST_API_KEY, ...env }, timeout: 30000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Keyed by app (one partition, Kafka order) and with distinct times, so history order is well defined. */
let clock = Date.now();
const appLog = (log: string, pod = `${appName}-web-1562910588-cg82f`) => ({
  key: appKey,
  value: JSON.stringify({
    log: `${log}\n`,
    stream: 'stdout',
    time: new Date((clock = Math.max(clock + 1, Date.now()))).toISOString(),
    docker: { container_id: 'c' },
    kubernetes: { namespace_name: space, pod_id: 'p', pod_name: pod, container_name: appName, labels: { name: appName }, host: 'h' },
    topic: space,
    tag: '',
  }),
});

beforeAll(async () => {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (scripts/test does).`);
  for (const f of features) {
    await f.start?.();
    started.push(f);
  }
  server = http.createServer(createApp(core, features));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The log-session URL is built from the public URL: this server's, now that its port is known.
  core.config.publicUrl = apiUrl;
  await core.apps.register(appKey);
});

afterAll(async () => {
  // Only what beforeAll got to: a server never created, or features never started, left this hook waiting forever.
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  for (const f of started.reverse()) await f.stop?.();
  await closeCore(core);
});

describe('logway CLI (built binary, real logway)', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await logway(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['logs', 'drains', 'drains:add', 'drains:remove', 'dlq', 'builds:result', 'metrics', 'status']) expect(r.stdout).toContain(c);
  });

  it('status reports each dependency and exits 0 when ready', async () => {
    const r = await logway(['status', '--no-color']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`logway ${apiUrl}: UP`);
    expect(r.stdout).toMatch(/kafka\s+UP/);
    expect(r.stdout).toMatch(/postgresql\s+UP/);
  });

  it('errors print the server’s message and exit non-zero', async () => {
    const r = await logway(['builds:result', 'not-a-uuid', '-a', appKey]);
    expect(r.code).toBe(1);
    // Without the builds routes the request reaches the 404 handler: still the server's message.
    expect(r.stderr).toMatch(/^logway: (The specified uuid was invalid\.|The requested resource GET .* was not found\.)\n$/);
    const bad = await logway(['status'], { LOGWAY_API_KEY: '', LOGWAY_API_URL: 'http://127.0.0.1:1' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Cannot reach logway at http://127.0.0.1:1');
    const unauth = await logway(['drains', '-a', appKey], { LOGWAY_API_KEY: 'wrong' });
    expect(unauth.code).toBe(1);
    expect(unauth.stderr).toMatch(/^logway: (Unauthorized|The requested resource)/);
  });

  withTail('logs prints history, and -t follows new lines until Ctrl-C (exit 0)', async () => {
    const tag = uniqueName('h');
    await core.kafka.produce(space, [appLog(`history one ${tag}`), appLog(`history two ${tag}`)]);
    const hist = await waitFor('history through the CLI', async () => {
      const r = await logway(['logs', '-a', appKey, '-n', '10']);
      return r.code === 0 && r.stdout.includes(`history two ${tag}`) ? r : undefined;
    });
    const lines = hist.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes(tag))).toEqual([
      expect.stringMatching(new RegExp(`^\\S+Z ${appKey} app\\[web\\.1562910588-cg82f\\]: history one ${tag}$`)),
      expect.stringMatching(new RegExp(`^\\S+Z ${appKey} app\\[web\\.1562910588-cg82f\\]: history two ${tag}$`)),
    ]);
    expect(hist.stdout).not.toContain('\u001b['); // not a TTY: no colours

    const json = await logway(['logs', '-a', appKey, '-n', '1', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout.trim().split('\n').pop()!)).toMatchObject({ app_key: appKey, source: 'app', message: `history two ${tag}` });

    const child = spawn(process.execPath, [BIN, 'logs', '-a', appKey, '-t', '-n', '1'], {
      env: { PATH: process.env.PATH ?? '', LOGWAY_API_URL: apiUrl, LOGWAY_API_KEY: TEST_API_KEY },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor('the tail history', async () => out.includes(`history two ${tag}`));
      const live = `live ${crypto.randomUUID()}`;
      await core.kafka.produce(space, [appLog(live)]);
      await waitFor('the live line', async () => out.includes(live));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(err).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });

  withDrains('drains:add, drains and drains:remove', async () => {
    // A documentation address (RFC 5737): the destination policy judges it public without DNS.
    const url = 'syslog+tls://203.0.113.17:6514';
    const add = await logway(['drains:add', url, '-a', appKey]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const id = /Added log drain (\S+) to /.exec(add.stdout)?.[1];
    expect(add.stdout).toBe(`Added log drain ${id} to ${appKey}: ${url}\n`);
    const list = await logway(['drains', '-a', appKey]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+URL\s+CREATED$/);
    expect(list.stdout).toContain(`${id}  ${url}`);
    const dup = await logway(['drains:add', url, '-a', appKey]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('logway: The requested log drain already exists on this application.\n');
    const count = await logway(['dlq', 'count', '--drain', id!]);
    expect(count).toEqual({ code: 0, stdout: '0\n', stderr: '' });
    const rm = await logway(['drains:remove', id!, '-a', appKey]);
    expect(rm).toEqual({ code: 0, stdout: `Removed log drain ${id} from ${appKey}: ${url}\n`, stderr: '' });
    const empty = await logway(['drains', '-a', appKey]);
    expect(empty.stdout).toBe(`${appKey} has no log drains.\n`);
  });

  withBuilds('builds:result prints the stripped lines and the status', async () => {
    const id = crypto.randomUUID();
    const store = new BuildStore(core.db, core.apps);
    const records: KafkaRecord[] = ['Step 1/2 : FROM node:20', ' ---> abc123', 'npm run build', 'Finished: SUCCESS'].map((message, i) => ({
      topic: uniqueName('clibuilds'),
      partition: 0,
      offset: String(i),
      timestamp: String(Date.now() + i),
      key: null,
      value: Buffer.from(JSON.stringify({ build: id, job: '1', message, metadata: appKey })),
    }));
    await store.ingest(records);
    const r = await logway(['builds:result', id, '-a', appKey]);
    expect(r).toEqual({ code: 0, stdout: 'Step 1/2 : FROM node:20\nnpm run build\nFinished: SUCCESS\n', stderr: `Build ${id} succeeded (3 lines)\n` });
    const missing = crypto.randomUUID();
    const nf = await logway(['builds:result', missing, '-a', appKey]);
    expect(nf).toEqual({ code: 1, stdout: '', stderr: `logway: The specified build ${missing} was not found.\n` });
  });

  withMetrics('metrics draws a chart per metric of each process type', async () => {
    const to = Math.floor(Date.now() / 60000) * 60;
    const points = [];
    for (let i = 0; i < 10; i++) {
      for (const instance of ['a', 'b']) {
        points.push({
          measurement: 'memory_usage_bytes',
          tags: { app: appKey, process_type: 'web', instance },
          fields: { value: (100 + i * 10) * 1024 * 1024 },
          timestamp: to - 600 + i * 60,
        });
      }
    }
    await core.influx.writePoints(points, 's');
    const from = new Date((to - 600) * 1000).toISOString();
    const until = new Date(to * 1000).toISOString();
    const r = await logway(['metrics', '-a', appKey, '-r', '1m', '--from', from, '--to', until]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('=== web');
    expect(r.stdout).toMatch(/memory_usage_bytes \(MB\) 10 samples/);
    expect(r.stdout).toMatch(/[▁▂▃▄▅▆▇█]{10}/);
    expect(r.stdout).toMatch(/max\s+190\.0 MB/);
    const bad = await logway(['metrics', '-a', appKey, '-r', 'fortnightly']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^logway: .*resolution/i);
  });
});
