/** The one module that talks to PostgreSQL (pg). */
import { Pool, PoolClient, QueryResultRow } from 'pg';
import { Unavailable } from './errors';

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

export function createDb(databaseUrl: string, opts: { max?: number; queryTimeoutMs?: number } = {}): Db {
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
    try {
      const res = await pool.query<R>(text, params as unknown[]);
      return res.rows;
    } catch (e) {
      throw asUnavailable(e);
    }
  }

  return {
    pool,
    query,
    async tx(fn) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw asUnavailable(e);
      }
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw asUnavailable(e);
      } finally {
        client.release();
      }
    },
    async connect() {
      try {
        return await pool.connect();
      } catch (e) {
        throw asUnavailable(e);
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
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE',
  // SQLSTATE: admin/crash shutdown, cannot connect now, too many connections
  '57P01', '57P02', '57P03', '53300',
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

/** PostgreSQL's text and jsonb cannot hold NUL (SQLSTATE 22021/22P05): a line carrying one would be
 * refused forever and wedge its partition, so NUL is stored as U+FFFD instead. */
export function pgSafeText(s: string): string {
  return s.includes('\u0000') ? s.replace(/\u0000/g, '\uFFFD') : s;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable(what, `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
