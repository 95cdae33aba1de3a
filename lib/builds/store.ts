/** The build-log store: builds and their lines in PostgreSQL, written idempotently from Kafka, read page by page. */
import { type Db, pgSafeText, writeQuarantining } from '../db';
import type { AppRegistry } from '../apps';
import type { KafkaRecord } from '../kafka';
import { parseBuildMessage, type BuildStatus, type ParseFailureKind } from '../log/parse';
import { nextStatus, statusOfMessage, SQL_NEXT_STATUS } from './status';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Build {
  id: string;
  appId: string;
  job: string;
  status: BuildStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredLine {
  ts: string;
  partition: number;
  offset: string;
  message: string;
}

/**
 * Why a record was skipped: the parser's kinds, ids the API could never serve, and `quarantined`
 * (PostgreSQL refused the record even alone: lib/db isRowRefusal).
 */
export type SkipKind = ParseFailureKind | 'bad_build_id' | 'bad_app' | 'quarantined';

export interface IngestResult {
  linesStored: number;
  builds: number;
  skipped: { kind: SkipKind; reason: string; record: KafkaRecord }[];
}

interface PendingBuild {
  id: string;
  appKey: string;
  job: string;
  status: BuildStatus;
  record: KafkaRecord;
}

interface PendingLine {
  buildId: string;
  ts: string;
  partition: number;
  offset: string;
  topic: string;
  message: string;
}

/** Rows per INSERT: keeps each statement's parameter arrays moderate for big batches. */
const INSERT_CHUNK = 5000;

function recordTs(r: KafkaRecord): string {
  return /^\d+$/.test(r.timestamp) ? r.timestamp : '0';
}

export class BuildStore {
  constructor(
    private db: Db,
    private apps: AppRegistry,
  ) {}

  /**
   * Persists a batch of `alamobuildlogs` records in one transaction: builds upserted with their
   * status moved forward, lines inserted with ON CONFLICT DO NOTHING on their Kafka position, so a
   * redelivered batch changes nothing. Malformed records are returned, never thrown; so is a record
   * PostgreSQL refuses (the batch is then written record by record, and that one skipped): only a
   * PostgreSQL outage throws, for the consumer to retry the batch.
   */
  async ingest(records: KafkaRecord[]): Promise<IngestResult> {
    const total: IngestResult = { linesStored: 0, builds: 0, skipped: [] };
    const refused = await writeQuarantining(records, async (batch) => {
      const r = await this.write(batch);
      total.linesStored += r.linesStored;
      total.builds += r.builds;
      total.skipped.push(...r.skipped);
    });
    for (const q of refused) {
      total.skipped.push({ kind: 'quarantined', reason: `PostgreSQL refused it (${q.err.code}): ${q.err.message}`, record: q.row });
    }
    return total;
  }

  private async write(records: KafkaRecord[]): Promise<IngestResult> {
    const skipped: IngestResult['skipped'] = [];
    const builds = new Map<string, PendingBuild>();
    const lines: PendingLine[] = [];
    for (const record of records) {
      const parsed = parseBuildMessage(record.value);
      if (!parsed.ok) {
        skipped.push({ kind: parsed.kind, reason: parsed.reason, record });
        continue;
      }
      const b = parsed.build;
      if (!UUID_RE.test(b.buildId)) {
        skipped.push({ kind: 'bad_build_id', reason: `build id ${b.buildId} is not a uuid`, record });
        continue;
      }
      const id = b.buildId.toLowerCase();
      const hasText = b.message.trim() !== '';
      const incoming = statusOfMessage(b.status, hasText);
      // Tenant text made storable here, once for both tables (app keys: AppRegistry.register).
      const job = pgSafeText(b.job);
      const known = builds.get(id);
      if (known) {
        known.status = nextStatus(known.status, incoming);
        if (!known.job && job) known.job = job;
      } else {
        builds.set(id, { id, appKey: b.appKey, job, status: incoming, record });
      }
      if (hasText) {
        lines.push({
          buildId: id,
          ts: recordTs(record),
          partition: record.partition,
          offset: record.offset,
          topic: pgSafeText(record.topic),
          message: pgSafeText(b.message),
        });
      }
    }
    if (builds.size === 0) return { linesStored: 0, builds: 0, skipped };

    // Apps first (outside the transaction: registering is idempotent and cached).
    const appIds = new Map<string, string>();
    for (const b of builds.values()) {
      if (appIds.has(b.appKey)) continue;
      const app = await this.apps.register(b.appKey);
      if (app) appIds.set(b.appKey, app.id);
    }
    const writable = [...builds.values()].filter((b) => appIds.has(b.appKey));
    for (const b of builds.values()) {
      if (!appIds.has(b.appKey)) {
        skipped.push({ kind: 'bad_app', reason: `metadata ${b.appKey} is not an app-space key`, record: b.record });
      }
    }
    const writableIds = new Set(writable.map((b) => b.id));
    const writableLines = lines.filter((l) => writableIds.has(l.buildId));
    // A fixed lock order (by id) keeps two nodes writing the same builds from deadlocking.
    writable.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    let linesStored = 0;
    await this.db.tx(async (client) => {
      await client.query(
        `INSERT INTO builds (id, app_id, job, status)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
         ON CONFLICT (id) DO UPDATE SET
           status = ${SQL_NEXT_STATUS('builds.status', 'EXCLUDED.status')},
           job = CASE WHEN builds.job = '' THEN EXCLUDED.job ELSE builds.job END,
           updated_at = now()`,
        [writable.map((b) => b.id), writable.map((b) => appIds.get(b.appKey)), writable.map((b) => b.job), writable.map((b) => b.status)],
      );
      for (let i = 0; i < writableLines.length; i += INSERT_CHUNK) {
        const chunk = writableLines.slice(i, i + INSERT_CHUNK);
        const res = await client.query(
          `INSERT INTO build_lines (build_id, kafka_ts, kafka_partition, kafka_offset, kafka_topic, message)
           SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::int[], $4::bigint[], $5::text[], $6::text[])
           ON CONFLICT DO NOTHING`,
          [
            chunk.map((l) => l.buildId),
            chunk.map((l) => l.ts),
            chunk.map((l) => l.partition),
            chunk.map((l) => l.offset),
            chunk.map((l) => l.topic),
            chunk.map((l) => l.message),
          ],
        );
        linesStored += res.rowCount ?? 0;
      }
    });
    return { linesStored, builds: writable.length, skipped };
  }

  /**
   * Registers a build the platform knows about before its first line (status `queued`). Idempotent;
   * never moves an existing build backwards.
   */
  async registerBuild(appKey: string, buildId: string, job = ''): Promise<Build | null> {
    const app = await this.apps.register(appKey);
    if (!app || !UUID_RE.test(buildId)) return null;
    await this.db.query(`INSERT INTO builds (id, app_id, job, status) VALUES ($1, $2, $3, 'queued') ON CONFLICT (id) DO NOTHING`, [
      buildId.toLowerCase(),
      app.id,
      pgSafeText(job),
    ]);
    return this.findBuild(app.id, buildId);
  }

  /** The build if it belongs to this app (a build of another app is "not found"). */
  async findBuild(appId: string, buildId: string): Promise<Build | null> {
    const rows = await this.db.query<{ id: string; app_id: string; job: string; status: BuildStatus; created_at: Date; updated_at: Date }>(
      'SELECT id, app_id, job, status, created_at, updated_at FROM builds WHERE id = $1 AND app_id = $2',
      [buildId.toLowerCase(), appId],
    );
    const r = rows[0];
    return r ? { id: r.id, appId: r.app_id, job: r.job, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at } : null;
  }

  /**
   * The build's stored lines in order, a page at a time (keyset pagination on the primary key, so
   * each page is an index range scan and memory stays bounded whatever the build's size).
   */
  async *linePages(buildId: string, pageSize = 5000): AsyncGenerator<StoredLine[]> {
    let after: [string, number, string, string] | null = null;
    for (;;) {
      const rows: (StoredLine & { topic: string })[] = await this.db.query(
        after
          ? `SELECT kafka_ts::text AS ts, kafka_partition AS partition, kafka_offset::text AS offset, kafka_topic AS topic, message
             FROM build_lines WHERE build_id = $1 AND (kafka_ts, kafka_partition, kafka_offset, kafka_topic) > ($3::bigint, $4::int, $5::bigint, $6::text)
             ORDER BY kafka_ts, kafka_partition, kafka_offset, kafka_topic LIMIT $2`
          : `SELECT kafka_ts::text AS ts, kafka_partition AS partition, kafka_offset::text AS offset, kafka_topic AS topic, message
             FROM build_lines WHERE build_id = $1
             ORDER BY kafka_ts, kafka_partition, kafka_offset, kafka_topic LIMIT $2`,
        after ? [buildId, pageSize, ...after] : [buildId, pageSize],
      );
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = [last.ts, last.partition, last.offset, last.topic];
    }
  }
}
