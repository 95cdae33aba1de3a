/**
 * One DLQ row per (drain, topic, partition, offset), against real PostgreSQL: a line parked twice
 * (a rebalance's new owner parking what the old one already had) keeps one row, and the migration
 * that adds the constraint folds the duplicates an older version stored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DlqStore, ParkEntry } from '../../drains/dlq';
import { DrainStore } from '../../drains/store';
import { createDb, Db } from '../../lib/db';
import type { LogLine } from '../../lib/log/line';
import { REPO_ROOT, testEnv, uniqueName } from '../helpers/env';

let db: Db;
let dlq: DlqStore;
let drains: DrainStore;

beforeAll(() => {
  db = createDb(testEnv.DATABASE_URL, { max: 2 });
  dlq = new DlqStore(db, { maxRowsPerDrain: 1000 });
  drains = new DrainStore(db);
});

afterAll(async () => {
  await db.close();
});

const line = (appKey: string, offset: string, partition = 0): LogLine => ({
  time: new Date('2026-12-08T01:00:00.000Z'),
  app: appKey.split('-')[0],
  space: 'dlqsp',
  appKey,
  source: 'app',
  dyno: 'web.1-abc',
  processType: 'web',
  severity: 6,
  message: `line at ${offset}`,
  position: { topic: 'dlqsp', partition, offset },
});

const entry = (drainId: string, l: LogLine, lastError = 'HTTP 500'): ParkEntry => ({
  drainId,
  appKey: l.appKey,
  line: l,
  attempts: 3,
  lastError,
  firstAttemptAt: new Date(),
  lastAttemptAt: new Date(),
});

async function newDrain(): Promise<{ id: string; appKey: string }> {
  const appKey = `${uniqueName('dlqapp')}-dlqsp`;
  const d = await drains.create('app', appKey, `https://${uniqueName('sink')}.example.com/logs`);
  return { id: d.id, appKey };
}

const rows = (drainId: string) =>
  db.query<{ id: string; offset: string; last_error: string }>(
    `SELECT id, line->>'kafka_offset' AS offset, last_error FROM drain_dlq WHERE drain_id = $1 ORDER BY id`,
    [drainId],
  );

it('the same line parked twice (a rebalance, then the new owner fails too) keeps one row, the first', async () => {
  const d = await newDrain();
  const first = await dlq.park([entry(d.id, line(d.appKey, '14'), 'first owner')]);
  const again = await dlq.park([entry(d.id, line(d.appKey, '14'), 'second owner'), entry(d.id, line(d.appKey, '15'))]);
  expect(first.parked).toBe(1);
  expect(again.parked).toBe(1);
  // Already stored is not a line PostgreSQL refused: nothing is quarantined (counted as lost).
  expect(again.quarantined).toEqual([]);
  const stored = await rows(d.id);
  expect(stored.map((r) => [r.offset, r.last_error])).toEqual([
    ['14', 'first owner'],
    ['15', 'HTTP 500'],
  ]);
});

it('one batch holding a line twice stores it once; other partitions and drains are other lines', async () => {
  const d = await newDrain();
  const other = await newDrain();
  const parked = await dlq.park([
    entry(d.id, line(d.appKey, '7')),
    entry(d.id, line(d.appKey, '7')),
    entry(d.id, line(d.appKey, '7', 1)),
    entry(other.id, line(d.appKey, '7')),
  ]);
  expect(parked.quarantined).toEqual([]);
  expect(await dlq.count({ drain: d.id })).toBe(2);
  expect(await dlq.count({ drain: other.id })).toBe(1);
});

it('a line parked again after its retry left the DLQ is parked anew', async () => {
  const d = await newDrain();
  await dlq.park([entry(d.id, line(d.appKey, '3'))]);
  const [row] = await rows(d.id);
  await dlq.remove([row.id]);
  expect((await dlq.park([entry(d.id, line(d.appKey, '3'))])).parked).toBe(1);
});

it('the migration keeps the oldest row of each duplicated line', async () => {
  const sql = fs.readFileSync(path.join(REPO_ROOT, 'migrations', '040_dlq_one_row_per_line.sql'), 'utf8');
  const d = await newDrain();
  const json = (offset: string) => JSON.stringify({ kafka_topic: 'dlqsp', kafka_partition: 0, kafka_offset: offset, message: 'm' });
  // As the previous version stored them: without the index (dropped and restored by the rollback).
  const kept = await db
    .tx(async (client) => {
      await client.query('DROP INDEX drain_dlq_line_position');
      for (const [offset, error] of [
        ['1', 'oldest'],
        ['1', 'dup'],
        ['2', 'only'],
        ['1', 'dup'],
      ]) {
        await client.query(`INSERT INTO drain_dlq (drain_id, app_key, line, last_error) VALUES ($1, $2, $3::jsonb, $4)`, [d.id, d.appKey, json(offset), error]);
      }
      await client.query(`INSERT INTO drain_dlq (drain_id, app_key, line) VALUES ($1, $2, $3::jsonb), ($1, $2, $3::jsonb)`, [
        d.id,
        d.appKey,
        JSON.stringify({ kafka_topic: '', kafka_partition: -1, kafka_offset: '' }),
      ]);
      await client.query(sql);
      const r = await client.query<{ offset: string; last_error: string }>(
        `SELECT line->>'kafka_offset' AS offset, last_error FROM drain_dlq WHERE drain_id = $1 ORDER BY id`,
        [d.id],
      );
      throw Object.assign(new Error('rollback'), { rows: r.rows });
    })
    .catch((e: Error & { rows?: unknown }) => {
      if (!e.rows) throw e;
      return e.rows;
    });
  expect(kept).toEqual([
    { offset: '1', last_error: 'oldest' },
    { offset: '2', last_error: 'only' },
    // Lines without a Kafka position are not constrained.
    { offset: '', last_error: '' },
    { offset: '', last_error: '' },
  ]);
});
