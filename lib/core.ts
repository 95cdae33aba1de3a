/** The services every feature is built from, created once per process (or per test file) and passed down. */
import type { RequestHandler, Router } from 'express';
import { Config } from './config';
import { createLogger, Logger } from './logger';
import { createDb, Db } from './db';
import { createKafka, LogwayKafka } from './kafka';
import { createInflux, Influx } from './influx';
import { createProm, Prom } from './prom';
import { AppRegistry } from './apps';
import { requireAuth } from './auth';
import { DependencyTracker } from './dependencies';

export interface Core {
  config: Config;
  logger: Logger;
  db: Db;
  kafka: LogwayKafka;
  influx: Influx;
  prom: Prom;
  apps: AppRegistry;
  /** Outages of Kafka, PostgreSQL, InfluxDB and Kafka consumer crashes, logged as state changes. */
  dependencies: DependencyTracker;
  /** Auth middleware for routers that need it (the stream URL and health do not): authenticates and checks the scope. */
  auth: RequestHandler;
  /** `auth` for a POST that only reads (creating a log session): read-only credentials may use it. */
  readAuth: RequestHandler;
}

/** A slice of logway (log sessions, drains, metrics, builds...): its routes and its background work. */
export interface Feature {
  name: string;
  /** Mounted at the root; the router applies `core.auth` and `jsonBody` itself where needed. */
  router?: Router;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export function createCore(config: Config, opts: { logger?: Logger; defaultMetrics?: boolean } = {}): Core {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const prom = createProm({ defaultMetrics: opts.defaultMetrics });
  const dependencies = new DependencyTracker(logger, prom);
  const db = createDb(config.databaseUrl, { dependencies });
  const apps = new AppRegistry(db);
  const appKeyOf = async (appKeyOrId: string) => (await apps.find(appKeyOrId))?.appKey ?? null;
  return {
    config,
    logger,
    db,
    kafka: createKafka({ brokers: config.kafkaBrokers, clientId: config.kafkaClientId, logger, dependencies }),
    influx: createInflux({ url: config.influxUrl, db: config.influxDb, token: config.influxToken, timeoutMs: config.influxTimeoutMs, dependencies }),
    prom,
    apps,
    dependencies,
    auth: requireAuth(config, { appKeyOf }),
    readAuth: requireAuth(config, { appKeyOf, readsOnly: true }),
  };
}

export async function closeCore(core: Core): Promise<void> {
  await core.kafka.close();
  core.influx.close();
  await core.db.close();
}
