/** Configuration, read and validated once from the environment (DESIGN.md §4). Nothing else reads process.env. */
import fs from 'node:fs';

export interface Config {
  port: number;
  publicUrl: string;
  tls?: { cert: Buffer; key: Buffer };
  apiKeys: string[];
  jwtPublicKey?: string;
  jwtSecret?: string;
  sessionSecret: string;
  kafkaBrokers: string[];
  kafkaClientId: string;
  influxUrl: string;
  influxDb: string;
  influxToken?: string;
  influxTimeoutMs: number;
  databaseUrl: string;
  upstreamUrl?: string;
  logLevel: string;
  /** Largest `lines` a log session may ask for (Akkeris: 250; may be raised to 1500, Heroku's history size). */
  maxSessionLines: number;
  /** How long an opened log-session stream may live. */
  maxStreamSeconds: number;
  /** Per-dependency timeout for /health/ready checks. */
  readyTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(public variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, fallback: string | undefined, schemes: string[]): string | undefined {
  const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${raw}"`);
  }
  if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) {
    throw new ConfigError(name, `must use one of ${schemes.join(', ')}, got "${parsed.protocol}"`);
  }
  return raw.replace(/\/+$/, '');
}

function list(env: Env, name: string, fallback: string): string[] {
  return str(env, name, fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function readFile(env: Env, name: string): Buffer | undefined {
  const p = env[name];
  if (!p) return undefined;
  try {
    return fs.readFileSync(p);
  } catch (e) {
    throw new ConfigError(name, `names a file that cannot be read: ${(e as Error).message}`);
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 5000, 0, 65535);
  const cert = readFile(env, 'TLS_CERT_FILE');
  const key = readFile(env, 'TLS_KEY_FILE');
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(cert ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'must be set together with the other TLS file');
  }
  const scheme = cert ? 'https' : 'http';
  const publicUrl = url(env, 'PUBLIC_URL', `${scheme}://127.0.0.1:${port}`, ['http', 'https'])!;
  const apiKeys = list(env, 'API_KEYS', 'logway-dev-key');
  if (apiKeys.length === 0) throw new ConfigError('API_KEYS', 'must name at least one key');
  const kafkaBrokers = list(env, 'KAFKA_BROKERS', '127.0.0.1:9092');
  for (const b of kafkaBrokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError('KAFKA_BROKERS', `entries must be host:port, got "${b}"`);
  }
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const sessionSecret = str(env, 'SESSION_SECRET', 'logway-dev-session-secret');
  if (sessionSecret.length < 16) throw new ConfigError('SESSION_SECRET', 'must be at least 16 characters');
  const jwtPublicKey = env.JWT_PUBLIC_KEY ? env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n') : undefined;
  return {
    port,
    publicUrl,
    tls: cert && key ? { cert, key } : undefined,
    apiKeys,
    jwtPublicKey,
    jwtSecret: env.JWT_SECRET || undefined,
    sessionSecret,
    kafkaBrokers,
    kafkaClientId: str(env, 'KAFKA_CLIENT_ID', 'logway'),
    influxUrl: url(env, 'INFLUX_URL', 'http://127.0.0.1:8086', ['http', 'https'])!,
    influxDb: str(env, 'INFLUX_DB', 'logway'),
    influxToken: env.INFLUX_TOKEN || undefined,
    influxTimeoutMs: int(env, 'INFLUX_TIMEOUT_MS', 5000, 100, 120000),
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://logway:logway@127.0.0.1:5432/logway', ['postgres', 'postgresql'])!,
    upstreamUrl: url(env, 'UPSTREAM_URL', undefined, ['http', 'https']),
    logLevel,
    maxSessionLines: int(env, 'MAX_SESSION_LINES', 250, 1, 1500),
    maxStreamSeconds: int(env, 'MAX_STREAM_SECONDS', 3600, 1, 86400),
    readyTimeoutMs: int(env, 'READY_TIMEOUT_MS', 2000, 50, 60000),
  };
}
