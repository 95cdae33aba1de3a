#!/usr/bin/env node
/** Applies pending migrations and exits (safe to run beside a running node: the runner takes an advisory lock). */
import { loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { migrate } from '../lib/migrate';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, { max: 1 });
  try {
    const applied = await migrate(db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  process.stderr.write(`logway migrate: ${(e as Error).message}\n`);
  process.exit(1);
});
