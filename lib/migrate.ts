/** Applies migrations/*.sql in name order, each in its own transaction, recorded in schema_migrations.
 * A session-level advisory lock makes concurrent runners (two nodes starting at once) take turns. */
import fs from 'node:fs';
import path from 'node:path';
import { Db } from './db';

const LOCK_KEY = 4_242_001;

export function migrationsDir(): string {
  // Works from the TypeScript sources (lib/) and from the build (dist/lib/).
  for (const candidate of [path.resolve(__dirname, '..', 'migrations'), path.resolve(__dirname, '..', '..', 'migrations')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('migrations directory not found');
}

export function listMigrations(dir = migrationsDir()): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d+.*\.sql$/.test(f))
    .sort();
}

export async function migrate(db: Db, dir = migrationsDir()): Promise<string[]> {
  const client = await db.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    for (const name of listMigrations(dir)) {
      if (done.has(name)) continue;
      const sql = fs.readFileSync(path.join(dir, name), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${name} failed: ${(e as Error).message}`);
      }
      applied.push(name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}

/** Names of migrations on disk that the database has not recorded. */
export async function pendingMigrations(db: Db, dir = migrationsDir()): Promise<string[]> {
  // Before the first run the table does not exist: everything is pending.
  const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations').catch(() => [] as { name: string }[]);
  const done = new Set(rows.map((r) => r.name));
  return listMigrations(dir).filter((n) => !done.has(n));
}
