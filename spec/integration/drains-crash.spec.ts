/**
 * The drain worker killed with SIGKILL mid-delivery, then a new one started in the same consumer
 * group: nothing is missing (produced = delivered + parked), and the new worker resumes from the
 * committed offsets (duplicates bounded by what was delivered but not yet committed). Run with
 * the worker in the node's process and with 2 worker processes per node (DRAIN_WORKERS=2); the
 * kill takes the node's whole process group, as an OOM kill of its container would.
 */
import fs from 'node:fs';
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { createTestCore, REPO_ROOT, uniqueName } from '../helpers/env';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { HttpsReceiver, parseRfc5424, produceLines, waitFor } from '../helpers/drain-fixtures';
import { expectAccountedFor } from '../helpers/drain-accounting';

jest.setTimeout(180_000);

let core: Core;
let api: DrainsFeature;
let cert: TestCert;
let receiver: HttpsReceiver;
const children: ChildProcess[] = [];
const MODES = [0, 2];
const spaces = MODES.map(() => uniqueName('dcr'));

beforeAll(async () => {
  cert = makeTestCert();
  receiver = new HttpsReceiver(cert);
  await receiver.listen();
  core = createTestCore();
  api = createDrainsFeature(core, { worker: false });
  for (const space of spaces) await core.kafka.createTopic(space, 3);
});

afterAll(async () => {
  // This file's drains (and their DLQ lines) go, so later workers do not carry them.
  for (const space of spaces) if (core) await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${space}`]).catch(() => undefined);
  for (const c of children) killGroup(c, 'SIGKILL');
  await receiver?.close();
  if (core) await closeCore(core);
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

function startWorker(processes: number, space: string, groupId: string): Promise<ChildProcess> {
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild that a SIGKILL to the
  // CLI would leave running. Here the process we kill is the worker itself.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'spec', 'helpers', 'drain-worker-process.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DRAIN_WORKER_CONFIG: JSON.stringify({
        processes,
        groupId,
        topics: [space],
        fromBeginning: true,
        commitIntervalMs: 200,
        // The killed member holds its partitions until its session times out (6 s is Kafka's minimum).
        sessionTimeoutMs: 6000,
        retry: { baseMs: 20, capMs: 200, attempts: 8 },
        tlsCa: cert.ca,
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so one kill reaches its drain worker processes too.
    detached: true,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`drain worker exited early (${code})`)));
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

describe.each(MODES.map((processes, i) => [processes, spaces[i]] as const))('%i worker processes per node', (processes, space) => {
  const groupId = uniqueName('drains-crash-');
  it('loses nothing when the worker is SIGKILLed mid-delivery and a new one takes over', async () => {
    const name = uniqueName('dc');
    const appKey = `${name}-${space}`;
    await core.apps.register(appKey);
    const drain = await api.store.create('app', appKey, `https://localhost:${receiver.port}/crash-${processes}`);
    // A sink that takes its time, so the kill lands mid-delivery.
    receiver.answer = () => new Promise((r) => setTimeout(() => r(200), 40));
    const total = 20_000;
    // The node first (with 2 processes, the first one can read everything before the second joined), then the lines.
    const first = await startWorker(processes, space, groupId);
    const produced = await produceLines(core, { app: name, space, tag: 'cr', count: total, pad: 100, chunk: 2000 });
    const delivered = () => receiver.delivered(`/crash-${processes}`).map((m) => parseRfc5424(m)!.msg);

    await waitFor(() => new Set(delivered()).size >= total * 0.3, 'a third delivered by the first worker', 90_000, 20);
    killGroup(first, 'SIGKILL');
    await exited(first);
    const atKill = delivered().length;
    expect(new Set(delivered()).size).toBeLessThan(total);

    const second = await startWorker(processes, space, groupId);
    const parked = async () => (await api.dlq.list({ drain: drain.id }, 1000)).items.map((i) => i.line.message);
    await waitFor(async () => new Set([...delivered(), ...(await parked())]).size >= total, 'every line delivered or parked', 120_000, 200);
    second.kill('SIGTERM');
    await exited(second);

    const parkedLines = await parked();
    const duplicates = expectAccountedFor(produced, delivered(), parkedLines);
    if (process.env.DRAIN_TEST_VERBOSE)
      process.stderr.write(`worker crash: delivered at kill ${atKill}, duplicates ${duplicates}, parked ${parkedLines.length}\n`);
    // The new worker resumed from the committed offsets, not from the beginning: it resent at most
    // what had been delivered since the last commit, never everything the first one delivered.
    expect(duplicates).toBeLessThan(atKill);
  });
});
