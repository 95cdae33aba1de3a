/**
 * The scale-out harness: logway nodes as real processes (the built dist/bin/server.js) against the
 * three-broker Kafka cluster of `scripts/stack cluster`, one PostgreSQL database (logway_cluster)
 * and one InfluxDB database shared by every node, the same SESSION_SECRET everywhere. Brokers are
 * killed and restarted through scripts/stack; partition leaders come from kcat's metadata.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { Core } from '../../../lib/core';
import { createTestCore, REPO_ROOT, testEnv, TEST_API_KEY } from '../../helpers/env';
import { freeTcpPort } from '../../helpers/rsyslog';

const run = promisify(execFile);

export const CLUSTER_BROKERS = ['127.0.0.1:19092', '127.0.0.1:19094', '127.0.0.1:19096'];
export const CLUSTER_DATABASE_URL = process.env.CLUSTER_DATABASE_URL ?? 'postgres://logway:logway@127.0.0.1:5432/logway_cluster';
export const CLUSTER_INFLUX_DB = 'logway_cluster';
export const LOG_DIR = path.join(REPO_ROOT, '.stack', 'cluster-nodes');

/** The environment every node and the test's own client share (only PORT and the client id differ per node). */
export const clusterEnv: Record<string, string> = {
  ...testEnv,
  DATABASE_URL: CLUSTER_DATABASE_URL,
  INFLUX_DB: CLUSTER_INFLUX_DB,
  KAFKA_BROKERS: CLUSTER_BROKERS.join(','),
  LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn',
  DRAIN_ALLOW_CIDRS: '127.0.0.0/8',
  // Drains in each node's own process (no worker processes): three nodes on a 2-core machine with
  // one worker per core would be nine processes competing with three brokers; the suite is about
  // nodes and brokers dying, and a node's process group is what a SIGKILL takes either way.
  DRAIN_WORKERS: '0',
};

/** A Core of the test process itself (produce, DLQ reads, app registration) against the cluster. */
export function clusterCore(): Core {
  return createTestCore({ ...clusterEnv, LOG_LEVEL: 'silent' });
}

export class LogwayNode {
  proc: ChildProcess | null = null;
  port = 0;
  /** How the last process ended (null while it runs). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly name: string,
    private extraEnv: Record<string, string> = {},
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null && this.exit === null;
  }

  /** Spawns the node (same port on a restart) and resolves once /health/live answers. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freeTcpPort();
    fs.mkdirSync(LOG_DIR, { recursive: true });
    const out = fs.openSync(path.join(LOG_DIR, `${this.name}.log`), 'a');
    this.exit = null;
    const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'server.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...clusterEnv, PORT: String(this.port), PUBLIC_URL: this.base, KAFKA_CLIENT_ID: `logway-${this.name}`, ...this.extraEnv },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.proc = proc;
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.exit = { code, signal };
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`node ${this.name} exited during start-up (${JSON.stringify(this.exit)}); see ${LOG_DIR}/${this.name}.log`);
      if ((await getJson(`${this.base}/health/live`).catch(() => null))?.status === 200) return;
      await sleep(100);
    }
    throw new Error(`node ${this.name} did not answer /health/live`);
  }

  /** Sends `signal` and waits for the process to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const p = this.proc;
    if (!p || this.exit) return this.exit ?? { code: null, signal: null };
    const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.once('exit', (code, sig) => r({ code, signal: sig })));
    p.kill(signal);
    return gone;
  }

  async ready(): Promise<{ status: number; body: Record<string, unknown> }> {
    return getJson(`${this.base}/health/ready`);
  }
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

export async function postJson(url: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: TEST_API_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- brokers ---------------------------------------------------------------

async function stack(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [path.join(REPO_ROOT, 'scripts', 'stack'), 'cluster', ...args], { timeout: 180_000 });
  return stdout;
}

/** SIGKILLs broker `id` (1..3) and waits until its process is gone. */
export async function killBroker(id: number): Promise<void> {
  await stack('kill', String(id), 'KILL');
}

/** Restarts broker `id` and waits until it serves again. */
export async function startBroker(id: number): Promise<void> {
  await stack('start', String(id));
}

/** The broker id leading each partition of `topic`, from kcat's metadata (-1: no leader now). */
export async function leaders(topic: string): Promise<Map<number, number>> {
  const { stdout } = await run('kcat', ['-L', '-J', '-b', CLUSTER_BROKERS.join(','), '-t', topic, '-m', '10'], { timeout: 30_000 });
  const meta = JSON.parse(stdout) as { topics: { topic: string; partitions: { partition: number; leader: number }[] }[] };
  const t = meta.topics.find((x) => x.topic === topic);
  return new Map((t?.partitions ?? []).map((p) => [p.partition, p.leader]));
}

/**
 * The messages of `topic` now (every partition, start to end, through kcat) that start with
 * `prefix`, one entry per Kafka record: a line written twice by the producer is listed twice.
 */
export async function kafkaMessages(topic: string, prefix: string): Promise<string[]> {
  const { stdout } = await run('kcat', ['-C', '-b', CLUSTER_BROKERS.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n'], {
    timeout: 120_000,
    maxBuffer: 1024 * 1024 * 1024,
  });
  const out: string[] = [];
  for (const value of stdout.split('\n')) {
    if (!value) continue;
    const text = String((JSON.parse(value) as { log?: string }).log ?? '').trim();
    if (text.startsWith(prefix)) out.push(text);
  }
  return out;
}

// ---- SSE -------------------------------------------------------------------

export interface SseEvent {
  id?: string;
  data: string;
}

/**
 * An SSE reader that keeps every event and how the response ended: `clean` (the server ended
 * the response) or `cut` (the connection broke without an end).
 */
export class SseReader {
  events: SseEvent[] = [];
  ended: 'clean' | 'cut' | null = null;
  status = 0;
  private req: http.ClientRequest;
  private buf = '';
  private done: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    let finish: () => void = () => undefined;
    this.done = new Promise((r) => (finish = r));
    this.req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => this.feed(d));
      res.on('end', () => {
        this.ended ??= 'clean';
        finish();
      });
      res.on('aborted', () => {
        this.ended ??= 'cut';
        finish();
      });
      res.on('error', () => {
        this.ended ??= 'cut';
        finish();
      });
    });
    this.req.on('error', () => {
      this.ended ??= 'cut';
      finish();
    });
  }

  private feed(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const ev: SseEvent = { data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) ev.id = line.slice(4);
        else if (line.startsWith('data: ')) {
          ev.data = hasData ? `${ev.data}\n${line.slice(6)}` : line.slice(6);
          hasData = true;
        }
      }
      if (hasData) this.events.push(ev);
    }
  }

  get lastId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].id) return this.events[i].id;
    return undefined;
  }

  close(): void {
    this.req.destroy();
  }

  finished(): Promise<void> {
    return this.done;
  }
}

/** One line per scenario, the figures the issue asks for. */
export function report(scenario: string, figures: Record<string, number | string>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`)
    .join(', ');
  process.stderr.write(`[cluster] ${scenario}: ${text}\n`);
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.appendFileSync(path.join(LOG_DIR, 'figures.log'), `${new Date().toISOString()} ${scenario}: ${text}\n`);
}
