/** Configuration, read and validated once from the environment (docs/design.md §4). Nothing else reads process.env. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

export interface Config {
  port: number;
  publicUrl: string;
  tls?: { cert: Buffer; key: Buffer };
  apiKeys: string[];
  jwtPublicKey?: string;
  jwtSecret?: string;
  /** The secret new log-session tokens and ids are signed with: the first of sessionSecrets. */
  sessionSecret: string;
  /** Every accepted session secret (SESSION_SECRET, comma-separated): tokens and ids signed with any of them are valid. */
  sessionSecrets: string[];
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
  /** NODE_ENV=production: unsafe configuration is refused at start-up instead of warned about. */
  production: boolean;
  /** What development mode let through that production would refuse; bin/server prints them. */
  warnings: string[];
  /** When set, API JWTs must carry this `aud` / `iss` (`exp` is always required). */
  jwtAudience?: string;
  jwtIssuer?: string;
  /** Drains may point at private ranges (10/8, 172.16/12, 192.168/16, fc00::/7): on-premise sinks. */
  drainAllowPrivate: boolean;
  /** CIDRs allowed as drain destinations even when otherwise refused (e.g. 127.0.0.0/8 for local test sinks). */
  drainAllowCidrs: string[];
  /** Drains one app or site may have. */
  maxDrainsPerApp: number;
  /** Dead-letter rows kept per drain; the oldest are dropped (and counted) beyond it. */
  maxDlqRowsPerDrain: number;
  /** Log-session streams open at once per app or site on one node (more → 429). */
  maxStreamsPerApp: number;
  /** Streams open at once of one log session (one logplex_url) on one node (more → 429). */
  maxStreamsPerSession: number;
  /** Bytes a slow session may have queued before lines are dropped (L11), besides its line budget. */
  sessionBufferBytes: number;
  /** Log-session streams open at once on one node, all apps together (more → 503 with Retry-After). */
  maxStreams: number;
  /** Bytes all the streams of one node may queue for clients that are behind (lines past it dropped, L11). */
  streamsBufferBytes: number;
  /** Longest `filter` regex a log session may ask for. */
  maxFilterLength: number;
  /** Kafka read-backs (history, resume) running at once on one node. */
  maxConcurrentReadbacks: number;
  /** Furthest back a log session's `since` may reach (Kafka's default retention, 7 days); older → 422. */
  maxSinceSeconds: number;
  /** While InfluxDB is down, a cached metrics answer for a range that ended before the outage is served this long past its TTL (Warning: 110); 0: never. */
  metricsStaleSeconds: number;
  /** Drain worker processes per node (default: one per core); 0 runs the drain worker in the server process. */
  drainWorkers: number;
  /** When set, `/metrics` requires `Authorization: Bearer <metricsToken>`; required in production. */
  metricsToken?: string;
  /** What a node's tail hub reads: every log topic (default), or the topics its sessions need (docs/scale-out.md). */
  tailReading: 'every-topic' | 'on-demand';
}

function tailReading(raw: string | undefined): 'every-topic' | 'on-demand' {
  if (raw === undefined || raw === '' || raw === 'every-topic') return 'every-topic';
  if (raw === 'on-demand') return 'on-demand';
  throw new ConfigError('TAIL_READING', `must be "every-topic" or "on-demand", got "${raw.slice(0, 40)}"`);
}

export class ConfigError extends Error {
  constructor(
    public variable: string,
    problem: string,
  ) {
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

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function cidrs(env: Env, name: string): string[] {
  const entries = list(env, name, '');
  for (const c of entries) {
    const m = /^(.+)\/(\d{1,3})$/.exec(c);
    const family = m ? net.isIP(m[1]) : 0;
    if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
      throw new ConfigError(name, `entries must be CIDRs such as 127.0.0.0/8 or ::1/128, got "${c}"`);
    }
  }
  return entries;
}

export const DEV_API_KEY = 'logway-dev-key';
export const DEV_SESSION_SECRET = 'logway-dev-session-secret';
const MIN_PRODUCTION_SECRET_BYTES = 32;

/**
 * The secrets checks: production refuses (exit 2), development warns and keeps its defaults so
 * `npm run up` works with nothing set.
 */
/** What the example Secret (deploy/kubernetes/secret.example.yaml) and tutorials hold instead of a secret. */
const PLACEHOLDER = /placeholder|changeme|change-me|replace-me|your[-_]?(api[-_]?)?(key|secret)/i;
const MIN_PRODUCTION_API_KEY_CHARS = 16;

function checkSecrets(
  env: Env,
  production: boolean,
  apiKeys: string[],
  sessionSecrets: string[],
  jwtSecret: string | undefined,
  metricsToken: string | undefined,
): string[] {
  const problems: [string, string][] = [];
  if (!env.API_KEYS) problems.push(['API_KEYS', 'is not set (the development key is public)']);
  else if (apiKeys.includes(DEV_API_KEY)) problems.push(['API_KEYS', `holds the development key "${DEV_API_KEY}"`]);
  else if (apiKeys.some((k) => PLACEHOLDER.test(k))) problems.push(['API_KEYS', 'holds a placeholder, not a key']);
  else if (apiKeys.some((k) => k.length < MIN_PRODUCTION_API_KEY_CHARS)) {
    problems.push(['API_KEYS', `entries must be at least ${MIN_PRODUCTION_API_KEY_CHARS} characters in production`]);
  }
  // Each accepted secret is checked: an old one kept for rotation verifies tokens just as the new one does.
  if (!env.SESSION_SECRET) problems.push(['SESSION_SECRET', 'is not set (the development secret is public)']);
  else if (sessionSecrets.includes(DEV_SESSION_SECRET)) problems.push(['SESSION_SECRET', 'holds the development secret']);
  else if (sessionSecrets.some((s) => PLACEHOLDER.test(s))) problems.push(['SESSION_SECRET', 'holds a placeholder, not a secret']);
  else if (sessionSecrets.some((s) => Buffer.byteLength(s) < MIN_PRODUCTION_SECRET_BYTES)) {
    problems.push(['SESSION_SECRET', `entries must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes in production`]);
  }
  if (jwtSecret !== undefined && sessionSecrets.includes(jwtSecret)) {
    problems.push(['JWT_SECRET', 'must differ from SESSION_SECRET (a session token must never pass as an API token)']);
  } else if (jwtSecret !== undefined && PLACEHOLDER.test(jwtSecret)) {
    problems.push(['JWT_SECRET', 'is a placeholder, not a secret']);
  } else if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < MIN_PRODUCTION_SECRET_BYTES) {
    // An HS256 key this short can be brute-forced offline from any token seen.
    problems.push(['JWT_SECRET', `must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes in production`]);
  }
  // /metrics names every drain, app and topic: open only where nobody else can reach it.
  if (metricsToken === undefined) problems.push(['METRICS_TOKEN', 'is not set (/metrics is open to anyone who reaches it)']);
  else if (PLACEHOLDER.test(metricsToken)) problems.push(['METRICS_TOKEN', 'is a placeholder, not a token']);
  else if (metricsToken.length < MIN_PRODUCTION_API_KEY_CHARS) {
    problems.push(['METRICS_TOKEN', `must be at least ${MIN_PRODUCTION_API_KEY_CHARS} characters in production`]);
  }
  if (production && problems.length > 0) throw new ConfigError(problems[0][0], `${problems[0][1]}; NODE_ENV=production refuses it`);
  return problems.map(([name, problem]) => `${name} ${problem}: acceptable for development only, refused with NODE_ENV=production`);
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
  const apiKeys = list(env, 'API_KEYS', DEV_API_KEY);
  if (apiKeys.length === 0) throw new ConfigError('API_KEYS', 'must name at least one key');
  const kafkaBrokers = list(env, 'KAFKA_BROKERS', '127.0.0.1:9092');
  for (const b of kafkaBrokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError('KAFKA_BROKERS', `entries must be host:port, got "${b}"`);
  }
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const sessionSecrets = list(env, 'SESSION_SECRET', DEV_SESSION_SECRET);
  if (sessionSecrets.length === 0) throw new ConfigError('SESSION_SECRET', 'must name at least one secret');
  if (sessionSecrets.some((s) => s.length < 16)) throw new ConfigError('SESSION_SECRET', 'must be at least 16 characters (each, when comma-separated)');
  const sessionSecret = sessionSecrets[0];
  const jwtPublicKey = env.JWT_PUBLIC_KEY ? env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n') : undefined;
  const production = str(env, 'NODE_ENV', 'development') === 'production';
  const jwtSecret = env.JWT_SECRET || undefined;
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]+$/.test(metricsToken)) {
    throw new ConfigError('METRICS_TOKEN', 'must be printable ASCII without spaces (it is sent as a Bearer token)');
  }
  const warnings = checkSecrets(env, production, apiKeys, sessionSecrets, jwtSecret, metricsToken);
  return {
    port,
    publicUrl,
    tls: cert && key ? { cert, key } : undefined,
    apiKeys,
    jwtPublicKey,
    jwtSecret,
    sessionSecret,
    sessionSecrets,
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
    production,
    warnings,
    jwtAudience: env.JWT_AUDIENCE || undefined,
    jwtIssuer: env.JWT_ISSUER || undefined,
    drainAllowPrivate: bool(env, 'DRAIN_ALLOW_PRIVATE', false),
    drainAllowCidrs: cidrs(env, 'DRAIN_ALLOW_CIDRS'),
    maxDrainsPerApp: int(env, 'MAX_DRAINS_PER_APP', 10, 1, 1000),
    maxDlqRowsPerDrain: int(env, 'MAX_DLQ_ROWS_PER_DRAIN', 10000, 1, 10_000_000),
    maxStreamsPerApp: int(env, 'MAX_STREAMS_PER_APP', 50, 1, 100000),
    maxStreamsPerSession: int(env, 'MAX_STREAMS_PER_SESSION', 5, 1, 100000),
    sessionBufferBytes: int(env, 'SESSION_BUFFER_BYTES', 1_048_576, 4096, 1_073_741_824),
    maxStreams: int(env, 'MAX_STREAMS', 10_000, 1, 1_000_000),
    streamsBufferBytes: int(env, 'STREAMS_BUFFER_BYTES', 268_435_456, 65_536, 68_719_476_736),
    maxFilterLength: int(env, 'MAX_FILTER_LENGTH', 256, 1, 10000),
    maxConcurrentReadbacks: int(env, 'MAX_CONCURRENT_READBACKS', 4, 1, 1000),
    maxSinceSeconds: int(env, 'MAX_SINCE_SECONDS', 604_800, 60, 315_360_000),
    metricsStaleSeconds: int(env, 'METRICS_STALE_SECONDS', 3600, 0, 604_800),
    drainWorkers: int(env, 'DRAIN_WORKERS', os.availableParallelism(), 0, 256),
    metricsToken,
    tailReading: tailReading(env.TAIL_READING),
  };
}
