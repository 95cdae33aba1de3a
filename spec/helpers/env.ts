/** The environment integration tests run against: the local stack from scripts/stack, with test databases. */
import path from 'node:path';
import crypto from 'node:crypto';
import { loadConfig, Config } from '../../lib/config';
import { createCore, Core } from '../../lib/core';
import { createLogger } from '../../lib/logger';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Where scripts/stack keeps the local stack (its jars, its data): LOGWAY_STACK_DIR, as for scripts/stack, else .stack. */
export const STACK_DIR = process.env.LOGWAY_STACK_DIR ?? path.join(REPO_ROOT, '.stack');
export const TEST_API_KEY = 'test-api-key';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789';

export const testEnv: Record<string, string> = {
  PORT: '0',
  DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://logway:logway@127.0.0.1:5432/logway_test',
  INFLUX_DB: process.env.TEST_INFLUX_DB ?? 'logway_test',
  INFLUX_URL: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086',
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  API_KEYS: `${TEST_API_KEY},second-key`,
  JWT_SECRET: TEST_JWT_SECRET,
  SESSION_SECRET: 'test-session-secret-0123456789',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  READY_TIMEOUT_MS: '1500',
  INFLUX_TIMEOUT_MS: '2000',
  // The suite's sinks (rsyslog, HTTPS servers) listen on loopback, which drains refuse by default.
  DRAIN_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
  // The drain worker in the test's own process (so specs can look at it); the multi-process specs ask for processes.
  DRAIN_WORKERS: '0',
};

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...testEnv, ...overrides });
}

export function createTestCore(overrides: Record<string, string> = {}): Core {
  const config = testConfig(overrides);
  return createCore(config, { logger: createLogger(config.logLevel), defaultMetrics: false });
}

/** A name no other test (or earlier run) uses: lower-case letters and digits only, so it is a valid app or space name. */
export function uniqueName(prefix: string): string {
  return `${prefix}${crypto.randomBytes(4).toString('hex')}`;
}

export const authHeader = { Authorization: TEST_API_KEY };
