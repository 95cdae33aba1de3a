/**
 * The real server entry (bin/server.ts) refusing unsafe configuration: NODE_ENV=production exits 2
 * with a message naming the variable; development starts with its public defaults but says so.
 * Every dependency points at a closed port, so no case can touch the shared stack.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/env';

const SERVER = path.join(REPO_ROOT, 'bin', 'server.ts');

/** Nothing listens on port 1: a process that gets past its configuration fails to start, touching nothing. */
const closedDependencies: Record<string, string> = {
  PORT: '0',
  DATABASE_URL: 'postgres://logway:logway@127.0.0.1:1/logway',
  KAFKA_BROKERS: '127.0.0.1:1',
  INFLUX_URL: 'http://127.0.0.1:1',
  LOG_LEVEL: 'silent',
};

const safeProduction: Record<string, string> = {
  ...closedDependencies,
  NODE_ENV: 'production',
  API_KEYS: 'prod-key-6f1d0c2e9a8b7c6d5e4f',
  SESSION_SECRET: 'a-production-session-secret-of-40-bytes!',
  JWT_SECRET: 'a-different-jwt-secret-of-at-least-32-b',
  METRICS_TOKEN: 'scrape-token-5b8e2d71c4e0',
};

interface Run {
  code: number | null;
  stderr: string;
}

/**
 * `node --import tsx bin/server.ts` (no build step) with exactly `env` (plus PATH). Resolves when the
 * process exits, or, when `until` matches its stderr first, kills it and resolves then.
 */
function runServer(env: Record<string, string | undefined>, until?: RegExp): Promise<Run> {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { cwd: REPO_ROOT, env: clean, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (until && until.test(stderr) && child.exitCode === null) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('NODE_ENV=production', () => {
  it.each([
    ['API_KEYS missing', { API_KEYS: undefined }, 'API_KEYS'],
    ['API_KEYS holding the development key', { API_KEYS: 'prod-key-6f1d0c2e9a8b7c6d5e4f,logway-dev-key' }, 'API_KEYS'],
    ['SESSION_SECRET missing', { SESSION_SECRET: undefined }, 'SESSION_SECRET'],
    ['SESSION_SECRET the development secret', { SESSION_SECRET: 'logway-dev-session-secret' }, 'SESSION_SECRET'],
    ['SESSION_SECRET under 32 bytes', { SESSION_SECRET: 'only-31-bytes-long-secret-xxxxx' }, 'SESSION_SECRET'],
    ['JWT_SECRET equal to SESSION_SECRET', { JWT_SECRET: safeProduction.SESSION_SECRET }, 'JWT_SECRET'],
    ['METRICS_TOKEN missing', { METRICS_TOKEN: undefined }, 'METRICS_TOKEN'],
  ])('refuses %s: exit code 2 and a message naming the variable', async (_what, change, variable) => {
    const run = await runServer({ ...safeProduction, ...change });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^logway: Invalid configuration: ${variable} .*NODE_ENV=production refuses it\\n$`));
  });

  it('accepts safe settings: it gets past its configuration and fails only on the (closed) database', async () => {
    const run = await runServer(safeProduction);
    expect(run.stderr).not.toMatch(/Invalid configuration|warning/);
    expect(run.stderr).toMatch(/^logway: failed to start: /);
    expect(run.code).toBe(1);
  });
});

describe('development', () => {
  it('starts with no secrets set but warns on stderr about each development default', async () => {
    const run = await runServer(closedDependencies, /SESSION_SECRET[^\n]*\n/);
    expect(run.code).not.toBe(2);
    expect(run.stderr).not.toMatch(/Invalid configuration/);
    expect(run.stderr).toMatch(/^logway: warning: API_KEYS is not set .*refused with NODE_ENV=production$/m);
    expect(run.stderr).toMatch(/^logway: warning: SESSION_SECRET is not set .*refused with NODE_ENV=production$/m);
  });
});
