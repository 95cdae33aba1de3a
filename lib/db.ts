/** The one module that talks to PostgreSQL (pg). */
import { Pool, PoolClient, QueryResultRow } from 'pg';
import { Unavailable } from './errors';
import type { DependencyTracker } from './dependencies';
import { withTimeout } from './timeout';

/** A client inside Db.tx (the pg type, named here so pg stays imported by this module alone). */
export type DbClient = PoolClient;
/** For the drain listener's dedicated LISTEN connection (drains/listener.ts): pg stays behind this module. */
export type { PoolClient, Notification } from 'pg';

export interface Db {
  pool: Pool;
  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs fn inside BEGIN/COMMIT on one client; rolls back on error. */
  tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  /** A dedicated client for LISTEN; the caller releases it. */
  connect(): Promise<PoolClient>;
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function createDb(databaseUrl: string, opts: { max?: number; queryTimeoutMs?: number; dependencies?: DependencyTracker } = {}): Db {
  const deps = opts.dependencies;
  /**
   * A connection-level failure (→ 503) is an outage to report; anything PostgreSQL answered means
   * it is up. `askedAt`: when the call began (lib/dependencies: calls older than a change do not undo it).
   */
  const failed = (e: unknown, askedAt?: number): unknown => {
    const out = asUnavailable(e);
    if (out instanceof Unavailable) deps?.failed(out, askedAt);
    else deps?.up('postgresql', askedAt);
    return out;
  };
  const pool = new Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 3000,
    // A stalled PostgreSQL must not hang requests: the query fails (→ 503) instead.
    query_timeout: opts.queryTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30000,
  });
  // An idle client losing its connection (PostgreSQL restart) must not crash the process.
  pool.on('error', () => undefined);

  async function query<R extends QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> {
    const askedAt = Date.now();
    try {
      const res = await pool.query<R>(text, params as unknown[]);
      deps?.up('postgresql', askedAt);
      return res.rows;
    } catch (e) {
      throw failed(e, askedAt);
    }
  }

  return {
    pool,
    query,
    async tx(fn) {
      const askedAt = Date.now();
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw failed(e, askedAt);
      }
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        deps?.up('postgresql', askedAt);
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw failed(e, askedAt);
      } finally {
        client.release();
      }
    },
    async connect() {
      try {
        return await pool.connect();
      } catch (e) {
        throw failed(e);
      }
    },
    async ping(timeoutMs) {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'PostgreSQL');
    },
    async close() {
      await pool.end();
    },
  };
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  // SQLSTATE: admin/crash shutdown, cannot connect now, too many connections
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** Connection failures become 503 naming PostgreSQL; query errors (constraint, syntax) stay as they are. */
function asUnavailable(e: unknown): unknown {
  const err = e as { code?: string; message?: string };
  const connectionClass = typeof err.code === 'string' && err.code.startsWith('08'); // SQLSTATE class 08: connection exception
  if (
    (err.code && CONNECTION_CODES.has(err.code)) ||
    connectionClass ||
    /timeout exceeded when trying to connect|Connection terminated|Query read timeout/i.test(err.message ?? '')
  ) {
    return new Unavailable('PostgreSQL', err.message);
  }
  return e;
}

/** A NUL, or a UTF-16 surrogate without its pair (only JavaScript strings can hold one). */
const PG_UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const PG_UNSAFE_ALL = new RegExp(PG_UNSAFE.source, 'g');

/**
 * Text made storable by PostgreSQL, for every tenant-controlled string on its way to a text
 * column: text and jsonb cannot hold NUL (SQLSTATE 22021/22P05), and jsonb refuses an escaped
 * lone surrogate (22P02; pg itself turns one into U+FFFD in text). One such row would be refused
 * forever and wedge its queue, so each becomes U+FFFD instead.
 */
export function pgSafeText(s: string): string {
  return PG_UNSAFE.test(s) ? s.replace(PG_UNSAFE_ALL, '\uFFFD') : s;
}

/** `value` as JSON text a jsonb column accepts: every string in it (keys too) made safe by pgSafeText. */
export function pgSafeJson(value: unknown): string {
  return JSON.stringify(pgSafeValue(value));
}

function pgSafeValue(value: unknown): unknown {
  if (typeof value === 'string') return pgSafeText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(pgSafeValue);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return pgSafeValue((value as { toJSON(): unknown }).toJSON());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[pgSafeText(k)] = pgSafeValue(v);
  return out;
}

/**
 * A refusal of the row itself, not of the connection: SQLSTATE class 22 (data exception: bad
 * encoding, value out of range), 23 (integrity: a foreign key gone meanwhile) or 54 (program
 * limit: e.g. a value too big for an index). Retrying the same row can never succeed, so the
 * caller quarantines it instead of retrying its whole batch forever.
 */
export function isRowRefusal(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

export interface Quarantined<T> {
  row: T;
  err: Error & { code?: string };
}

/**
 * Writes `rows` with `write` in one go; if PostgreSQL refuses the batch for a row's sake
 * (isRowRefusal), writes them one by one and returns the ones it refuses alone. Any other error
 * (connection, timeout) is thrown for the caller to retry as before.
 */
export async function writeQuarantining<T>(rows: T[], write: (rows: T[]) => Promise<void>): Promise<Quarantined<T>[]> {
  try {
    await write(rows);
    return [];
  } catch (e) {
    if (!isRowRefusal(e)) throw e;
    if (rows.length === 1) return [{ row: rows[0], err: e as Quarantined<T>['err'] }];
  }
  const refused: Quarantined<T>[] = [];
  for (const row of rows) {
    try {
      await write([row]);
    } catch (e) {
      if (!isRowRefusal(e)) throw e;
      refused.push({ row, err: e as Quarantined<T>['err'] });
    }
  }
  return refused;
}
