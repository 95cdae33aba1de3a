/** Runs once per integration run: the stack must be up (scripts/test starts it) and the test databases migrated. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createDb } from '../../lib/db';
import { createInflux } from '../../lib/influx';
import { migrate } from '../../lib/migrate';
import { testEnv, REPO_ROOT } from './env';

export default async function globalSetup(): Promise<void> {
  if (process.env.LOGWAY_SKIP_STACK !== '1') {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'stack'), 'up'], { stdio: 'inherit' });
  }
  const db = createDb(testEnv.DATABASE_URL, { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  const influx = createInflux({ url: testEnv.INFLUX_URL, db: testEnv.INFLUX_DB, timeoutMs: 5000 });
  await influx.query(`CREATE DATABASE ${testEnv.INFLUX_DB}`);
  influx.close();
}
