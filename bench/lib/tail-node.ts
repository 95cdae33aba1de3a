/**
 * The tail benchmarks' logway node and what they say to it: bench/tail-server.ts as a child process
 * (its CPU and memory its own), log-session requests, /metrics figures, and app log messages to produce.
 */
import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import readline from 'node:readline';
import { createCore, Core } from '../../lib/core';
import { createLogger } from '../../lib/logger';
import { testConfig, TEST_API_KEY } from '../../spec/helpers/env';

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

export function newCore(): Core {
  const config = testConfig({ LOG_LEVEL: 'error' });
  return createCore(config, { logger: createLogger('error'), defaultMetrics: false });
}

export async function registerApps(core: Core, keys: string[]): Promise<void> {
  for (const k of keys) await core.apps.register(k);
}

/** An Akkeris app log message (fluentd JSON) as a space topic holds it. */
export function message(app: string, space: string, log: string, time = new Date()): string {
  return JSON.stringify({
    log: `${log}\n`,
    stream: 'stdout',
    time: time.toISOString(),
    docker: { container_id: '790e1f2a' },
    kubernetes: {
      namespace_name: space,
      pod_id: '5391',
      pod_name: `${app}-web-1562910588-cg82f`,
      container_name: app,
      labels: { name: app },
      host: 'ip-10-0-0-1',
    },
    topic: space,
    tag: 'bench',
  });
}

export interface Server {
  port: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
  /** GC in the server, then its memory figures (bytes). */
  memory(): Promise<{ rss: number; heapUsed: number; external: number; arrayBuffers: number }>;
}

export async function startServer(topic: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, '--import', 'tsx', 'bench/tail-server.ts'], {
    env: { ...process.env, BENCH_TOPIC: topic, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = readline.createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const { port, pid } = JSON.parse(first) as { port: number; pid: number };
  return {
    port,
    pid,
    child,
    memory: () =>
      new Promise((resolve) => {
        rl.once('line', (l) => resolve(JSON.parse(l)));
        process.kill(pid, 'SIGUSR2');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        process.kill(pid, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, 10000).unref();
      }),
  };
}

export function post(port: number, path: string, body: object): Promise<{ status: number; body: { logplex_url: string } }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', Authorization: TEST_API_KEY, 'Content-Length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** The sum of a /metrics series over its labels. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
        let t = '';
        res.setEncoding('utf8').on('data', (d) => (t += d));
        res.on('end', () => resolve(t));
      })
      .on('error', reject);
  });
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && /^[\w]+(\{[^}]*\})? /.test(line)) sum += Number(line.split(' ').pop());
  return sum;
}
