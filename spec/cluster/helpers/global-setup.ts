/**
 * Once per cluster run: the shared stack (PostgreSQL, InfluxDB) and the 3-broker Kafka up, and a
 * fresh logway_cluster database, so the first nodes migrate it together (lib/migrate's advisory lock).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createDb } from '../../../lib/db';
import { createInflux } from '../../../lib/influx';
import { REPO_ROOT, testEnv } from '../../helpers/env';
import { CLUSTER_DATABASE_URL, CLUSTER_INFLUX_DB } from './cluster';

export default async function globalSetup(): Promise<void> {
  const stack = path.join(REPO_ROOT, 'scripts', 'stack');
  if (process.env.LOGWAY_SKIP_STACK !== '1') execFileSync('bash', [stack, 'up', 'postgres', 'influxdb'], { stdio: 'inherit' });
  execFileSync('bash', [stack, 'cluster', 'up'], { stdio: 'inherit' });
  const dbName = new URL(CLUSTER_DATABASE_URL).pathname.slice(1);
  const admin = createDb(CLUSTER_DATABASE_URL.replace(/\/[^/]+$/, '/postgres'), { max: 1 });
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.close();
  }
  const influx = createInflux({ url: testEnv.INFLUX_URL, db: CLUSTER_INFLUX_DB, timeoutMs: 5000 });
  await influx.query(`CREATE DATABASE ${CLUSTER_INFLUX_DB}`);
  influx.close();
}
