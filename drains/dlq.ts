/** The drains' dead-letter queue in PostgreSQL (migrations/011_dlq.sql): park, list, retry, discard. */
import { Db, pgSafeText } from '../lib/db';
import type { LogLine } from '../lib/log/line';
import { ndjsonRecord } from '../lib/log/format';

/** A line as stored in the DLQ: the NDJSON record of lib/log/format (the same fields log sessions show). */
export interface StoredLine {
  time: string;
  app: string;
  space: string;
  app_key: string;
  source: string;
  dyno: string;
  process_type: string;
  severity: number;
  message: string;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string;
}

export function storedLine(line: LogLine): StoredLine {
  const stored: StoredLine = ndjsonRecord(line);
  stored.message = pgSafeText(stored.message);
  return stored;
}

export function lineFromStored(s: StoredLine): LogLine {
  return {
    time: new Date(s.time),
    app: s.app,
    space: s.space,
    appKey: s.app_key,
    source: s.source,
    dyno: s.dyno,
    processType: s.process_type,
    severity: s.severity,
    message: s.message,
    position: { topic: s.kafka_topic, partition: s.kafka_partition, offset: s.kafka_offset },
  };
}

export interface ParkEntry {
  drainId: string;
  appKey: string;
  line: LogLine;
  attempts: number;
  lastError: string;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
}

export type DlqState = 'parked' | 'retry' | 'inflight';

export interface DlqEntry {
  id: string;
  drainId: string;
  appKey: string;
  line: StoredLine;
  attempts: number;
  lastError: string;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  createdAt: Date;
  state: DlqState;
}

/** The wire shape of GET /drains/dlq items (docs/drains.md). */
export interface DlqEntryJson {
  id: string;
  drain_id: string;
  app: string;
  line: StoredLine;
  attempts: number;
  last_error: string;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  created_at: string;
  state: DlqState;
}

interface DlqRow {
  id: string;
  drain_id: string;
  app_key: string;
  line: StoredLine;
  attempts: number;
  last_error: string;
  first_attempt_at: Date | null;
  last_attempt_at: Date | null;
  created_at: Date;
  state: DlqState;
}

const toEntry = (r: DlqRow): DlqEntry => ({
  id: String(r.id),
  drainId: r.drain_id,
  appKey: r.app_key,
  line: r.line,
  attempts: r.attempts,
  lastError: r.last_error,
  firstAttemptAt: r.first_attempt_at,
  lastAttemptAt: r.last_attempt_at,
  createdAt: r.created_at,
  state: r.state,
});

export function dlqEntryJson(e: DlqEntry): DlqEntryJson {
  return {
    id: e.id,
    drain_id: e.drainId,
    app: e.appKey,
    line: e.line,
    attempts: e.attempts,
    last_error: e.lastError,
    first_attempt_at: e.firstAttemptAt ? e.firstAttemptAt.toISOString() : null,
    last_attempt_at: e.lastAttemptAt ? e.lastAttemptAt.toISOString() : null,
    created_at: e.createdAt.toISOString(),
    state: e.state,
  };
}

export interface DlqSelector {
  ids?: string[];
  drain?: string;
  app?: string;
}

/** A worker that claimed a retry and died leaves it `inflight`; after this long another worker takes it. */
const STALE_CLAIM = '5 minutes';

function where(sel: DlqSelector, params: unknown[]): string {
  const clauses: string[] = [];
  if (sel.ids && sel.ids.length > 0) {
    params.push(sel.ids);
    clauses.push(`id = ANY($${params.length}::bigint[])`);
  }
  if (sel.drain) {
    params.push(sel.drain);
    clauses.push(`drain_id::text = lower($${params.length})`);
  }
  if (sel.app) {
    params.push(sel.app);
    clauses.push(`app_key = $${params.length}`);
  }
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

export class DlqStore {
  /** Notified after retries are requested, so a worker picks them up at once. */
  static readonly RETRY_CHANNEL = 'logway_dlq_retry';

  constructor(private db: Db) {}

  /** DLQ lines per drain and app (the DLQ depth gauges). */
  async countByDrain(): Promise<{ drain: string; app: string; count: number }[]> {
    const rows = await this.db.query<{ drain_id: string; app_key: string; n: string }>(
      'SELECT drain_id, app_key, count(*) AS n FROM drain_dlq GROUP BY drain_id, app_key',
    );
    return rows.map((r) => ({ drain: r.drain_id, app: r.app_key, count: Number(r.n) }));
  }

  /** Inserts parked lines in one statement. Lines of a drain deleted meanwhile are skipped (nothing to deliver to). */
  async park(entries: ParkEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const rows = await this.db.query<{ n: string }>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::int[], $5::text[], $6::timestamptz[], $7::timestamptz[])
           AS t(drain_id, app_key, line, attempts, last_error, first_attempt_at, last_attempt_at)
       ), ins AS (
         INSERT INTO drain_dlq (drain_id, app_key, line, attempts, last_error, first_attempt_at, last_attempt_at)
         SELECT i.* FROM input i WHERE EXISTS (SELECT 1 FROM log_drains d WHERE d.id = i.drain_id)
         RETURNING 1
       ) SELECT count(*) AS n FROM ins`,
      [
        entries.map((e) => e.drainId),
        entries.map((e) => e.appKey),
        entries.map((e) => JSON.stringify(storedLine(e.line))),
        entries.map((e) => e.attempts),
        entries.map((e) => e.lastError.slice(0, 2000)),
        entries.map((e) => e.firstAttemptAt),
        entries.map((e) => e.lastAttemptAt),
      ],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** A retried line failed again: back to `parked` with the attempts added. */
  async repark(id: string, attempts: number, lastError: string, firstAttemptAt: Date | null, lastAttemptAt: Date | null): Promise<void> {
    await this.db.query(
      `UPDATE drain_dlq SET state = 'parked', claimed_at = NULL, attempts = attempts + $2, last_error = $3,
         first_attempt_at = COALESCE(first_attempt_at, $4), last_attempt_at = COALESCE($5, last_attempt_at)
       WHERE id = $1`,
      [id, attempts, lastError.slice(0, 2000), firstAttemptAt, lastAttemptAt],
    );
  }

  /** Delivered after a retry: the line leaves the DLQ. */
  async remove(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('DELETE FROM drain_dlq WHERE id = ANY($1::bigint[])', [ids]);
  }

  async list(sel: DlqSelector, limit: number): Promise<{ count: number; items: DlqEntry[] }> {
    const params: unknown[] = [];
    const w = where(sel, params);
    const [countRows, rows] = await Promise.all([
      this.db.query<{ n: string }>(`SELECT count(*) AS n FROM drain_dlq ${w}`, params),
      this.db.query<DlqRow>(`SELECT * FROM drain_dlq ${w} ORDER BY id LIMIT ${Math.max(0, Math.floor(limit))}`, params),
    ]);
    return { count: Number(countRows[0]?.n ?? 0), items: rows.map(toEntry) };
  }

  async count(sel: DlqSelector = {}): Promise<number> {
    const params: unknown[] = [];
    const rows = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM drain_dlq ${where(sel, params)}`, params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Marks parked lines for another delivery; a worker claims them (claim()) and sends them through the normal path. */
  async requestRetry(sel: DlqSelector): Promise<number> {
    const params: unknown[] = [];
    const w = where(sel, params);
    const rows = await this.db.query<{ n: string }>(
      `WITH upd AS (UPDATE drain_dlq SET state = 'retry', claimed_at = NULL ${w ? `${w} AND` : 'WHERE'} state = 'parked' RETURNING 1)
       SELECT count(*) AS n FROM upd`,
      params,
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) await this.db.query(`SELECT pg_notify('${DlqStore.RETRY_CHANNEL}', '')`);
    return n;
  }

  /**
   * Takes up to `limit` lines waiting for a retry (and retries a dead worker left claimed), only of
   * the drains in `scope.drains` (the claiming worker's live drains) and, if given, of lines read
   * from `scope.topics` (a worker scoped to some topics retries only their lines): a worker never
   * takes a line it cannot or should not deliver.
   */
  async claim(limit: number, scope: { drains: string[]; topics?: string[] }): Promise<DlqEntry[]> {
    if (scope.drains.length === 0 || (scope.topics && scope.topics.length === 0)) return [];
    const params: unknown[] = [limit, scope.drains];
    let topicClause = '';
    if (scope.topics) {
      params.push(scope.topics);
      topicClause = `AND line->>'kafka_topic' = ANY($3::text[])`;
    }
    const rows = await this.db.query<DlqRow>(
      `UPDATE drain_dlq SET state = 'inflight', claimed_at = now()
       WHERE id IN (
         SELECT id FROM drain_dlq
          WHERE (state = 'retry' OR (state = 'inflight' AND claimed_at < now() - interval '${STALE_CLAIM}'))
            AND drain_id = ANY($2::uuid[]) ${topicClause}
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      params,
    );
    return rows.map(toEntry).sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Gives claimed lines back untouched (the drain's queue was full, or the worker is stopping). */
  async unclaim(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE drain_dlq SET state = 'retry', claimed_at = NULL WHERE id = ANY($1::bigint[]) AND state = 'inflight'`, [ids]);
  }

  async discard(sel: DlqSelector): Promise<number> {
    const params: unknown[] = [];
    const rows = await this.db.query<{ n: string }>(
      `WITH del AS (DELETE FROM drain_dlq ${where(sel, params)} RETURNING 1) SELECT count(*) AS n FROM del`,
      params,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
