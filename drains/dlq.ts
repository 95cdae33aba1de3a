/** The drains' dead-letter queue in PostgreSQL (migrations/011_dlq.sql, 040): park, list, retry, discard. */
import { Db, DbClient, Quarantined, pgSafeJson, pgSafeText, writeQuarantining } from '../lib/db';
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
  return ndjsonRecord(line);
}

/** Longest last_error kept (a sink's error text is the sink's to choose). */
const MAX_ERROR_CHARS = 2000;

/** The one way tenant text reaches drain_dlq: every string made storable (lib/db pgSafeText), errors capped. */
const dlqError = (e: string): string => pgSafeText(e.slice(0, MAX_ERROR_CHARS));

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

export interface ParkResult {
  /** Rows inserted (not lines of drains deleted meanwhile, nor lines the drain already holds). */
  parked: number;
  /** Rows deleted, oldest first, to keep each drain within the cap. */
  dropped: { drain: string; app: string; count: number }[];
  /** Lines PostgreSQL refused alone: not stored; the caller counts, logs and settles them. */
  quarantined: Quarantined<ParkEntry>[];
}

export interface DlqDrops {
  drainId: string;
  appKey: string;
  dropped: number;
  lastDroppedAt: Date;
}

/** The wire shape of GET /drains/dlq `dropped_by_drain` items. */
export interface DlqDropsJson {
  drain_id: string;
  app: string;
  dropped: number;
  last_dropped_at: string;
}

export const dlqDropsJson = (d: DlqDrops): DlqDropsJson => ({
  drain_id: d.drainId,
  app: d.appKey,
  dropped: d.dropped,
  last_dropped_at: d.lastDroppedAt.toISOString(),
});

/** config.maxDlqRowsPerDrain's default (MAX_DLQ_ROWS_PER_DRAIN). */
export const DEFAULT_MAX_ROWS_PER_DRAIN = 10_000;

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
    params.push(pgSafeText(sel.app));
    clauses.push(`app_key = $${params.length}`);
  }
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

export class DlqStore {
  /** Notified after retries are requested, so a worker picks them up at once. */
  static readonly RETRY_CHANNEL = 'logway_dlq_retry';

  constructor(
    private db: Db,
    private opts: { maxRowsPerDrain: number } = { maxRowsPerDrain: DEFAULT_MAX_ROWS_PER_DRAIN },
  ) {}

  /** DLQ lines per drain and app (the DLQ depth gauges). */
  async countByDrain(): Promise<{ drain: string; app: string; count: number }[]> {
    const rows = await this.db.query<{ drain_id: string; app_key: string; n: string }>(
      'SELECT drain_id, app_key, count(*) AS n FROM drain_dlq GROUP BY drain_id, app_key',
    );
    return rows.map((r) => ({ drain: r.drain_id, app: r.app_key, count: Number(r.n) }));
  }

  /**
   * Inserts parked lines (one statement; a line this drain already holds, by its Kafka position, is
   * not stored again: migrations/040_dlq_one_row_per_line.sql), then trims each drain's DLQ to the cap, oldest first,
   * counting the drops per drain (drain_dlq_dropped), all in one transaction. Lines of a drain
   * deleted meanwhile are skipped (nothing to deliver to). A line PostgreSQL refuses alone
   * (lib/db isRowRefusal) is returned as quarantined instead of failing the others forever.
   */
  async park(entries: ParkEntry[]): Promise<ParkResult> {
    const result: ParkResult = { parked: 0, dropped: [], quarantined: [] };
    if (entries.length === 0) return result;
    result.quarantined = await writeQuarantining(entries, async (rows) => {
      const out = await this.db.tx((client) => this.insertCapped(client, rows));
      result.parked += out.parked;
      result.dropped.push(...out.dropped);
    });
    return result;
  }

  private async insertCapped(client: DbClient, entries: ParkEntry[]): Promise<Omit<ParkResult, 'quarantined'>> {
    const inserted = await client.query<{ drain_id: string }>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::int[], $5::text[], $6::timestamptz[], $7::timestamptz[])
           AS t(drain_id, app_key, line, attempts, last_error, first_attempt_at, last_attempt_at)
       )
       INSERT INTO drain_dlq (drain_id, app_key, line, attempts, last_error, first_attempt_at, last_attempt_at)
       SELECT i.* FROM input i WHERE EXISTS (SELECT 1 FROM log_drains d WHERE d.id = i.drain_id)
       ON CONFLICT (drain_id, (line->>'kafka_topic'), (line->>'kafka_partition'), (line->>'kafka_offset')) WHERE line->>'kafka_topic' <> ''
       DO NOTHING
       RETURNING drain_id`,
      [
        entries.map((e) => e.drainId),
        entries.map((e) => pgSafeText(e.appKey)),
        entries.map((e) => pgSafeJson(storedLine(e.line))),
        entries.map((e) => e.attempts),
        entries.map((e) => dlqError(e.lastError)),
        entries.map((e) => e.firstAttemptAt),
        entries.map((e) => e.lastAttemptAt),
      ],
    );
    const drains = [...new Set(inserted.rows.map((r) => r.drain_id))];
    if (drains.length === 0) return { parked: 0, dropped: [] };
    // Oldest first: the rows past the newest `cap` of each drain that just grew (index drain_dlq_drain).
    const dropped = await client.query<{ drain_id: string; app_key: string; n: string }>(
      `WITH del AS (
         DELETE FROM drain_dlq WHERE id IN (
           SELECT x.id FROM unnest($1::uuid[]) AS d(drain_id)
           CROSS JOIN LATERAL (SELECT q.id FROM drain_dlq q WHERE q.drain_id = d.drain_id ORDER BY q.id DESC OFFSET $2) x)
         RETURNING drain_id, app_key
       ), counted AS (
         SELECT drain_id, min(app_key) AS app_key, count(*) AS n FROM del GROUP BY drain_id
       ), upsert AS (
         INSERT INTO drain_dlq_dropped (drain_id, app_key, dropped)
         SELECT drain_id, app_key, n FROM counted
         ON CONFLICT (drain_id) DO UPDATE SET dropped = drain_dlq_dropped.dropped + EXCLUDED.dropped, last_dropped_at = now()
       )
       SELECT drain_id, app_key, n FROM counted`,
      [drains, this.opts.maxRowsPerDrain],
    );
    return {
      parked: inserted.rowCount ?? 0,
      dropped: dropped.rows.map((r) => ({ drain: r.drain_id, app: r.app_key, count: Number(r.n) })),
    };
  }

  /** Lines dropped to keep the cap, per drain (of the drains matching `drain`/`app`; `ids` does not apply). */
  async droppedByDrain(sel: DlqSelector): Promise<DlqDrops[]> {
    const params: unknown[] = [];
    const rows = await this.db.query<{ drain_id: string; app_key: string; dropped: string; last_dropped_at: Date }>(
      `SELECT drain_id, app_key, dropped, last_dropped_at FROM drain_dlq_dropped ${where({ drain: sel.drain, app: sel.app }, params)}
       ORDER BY drain_id`,
      params,
    );
    return rows.map((r) => ({ drainId: r.drain_id, appKey: r.app_key, dropped: Number(r.dropped), lastDroppedAt: r.last_dropped_at }));
  }

  /** A retried line failed again: back to `parked` with the attempts added. */
  async repark(id: string, attempts: number, lastError: string, firstAttemptAt: Date | null, lastAttemptAt: Date | null): Promise<void> {
    await this.db.query(
      `UPDATE drain_dlq SET state = 'parked', claimed_at = NULL, attempts = attempts + $2, last_error = $3,
         first_attempt_at = COALESCE(first_attempt_at, $4), last_attempt_at = COALESCE($5, last_attempt_at)
       WHERE id = $1`,
      [id, attempts, dlqError(lastError), firstAttemptAt, lastAttemptAt],
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
