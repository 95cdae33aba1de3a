/**
 * logway's own operational surface: liveness, readiness (each dependency checked; DEGRADED when
 * only PostgreSQL or InfluxDB is down, a consumer is restarting, or a consumer holds a Kafka
 * partition quarantined as poison; not ready when Kafka is unreachable, migrations are pending or
 * a Kafka consumer is crash-looping), Prometheus metrics.
 */
import { Router } from 'express';
import { Core } from '../lib/core';
import { pendingMigrations } from '../lib/migrate';
import { requireMetricsToken } from '../lib/metrics-access';
import { AFFECTED as DEPENDENCY_AFFECTED, DependencyName, PartitionQuarantine } from '../lib/dependencies';

type DependencyState = { state: 'UP' | 'DOWN' | 'DEGRADED'; error?: string };

/** A quarantined partition as /health/ready lists it (`quarantined`). */
export interface QuarantineDetail {
  consumer: string;
  topic: string;
  partition: number;
  /** `quarantined`: paused until retry_at; `retrying`: resumed at retry_at, listed until a batch of it goes through. */
  state: 'quarantined' | 'retrying';
  since: string;
  retry_at: string;
  /** The handler's error message (one line, bounded: lib/dependencies boundedReason). */
  reason: string;
}

function quarantineDetail(q: PartitionQuarantine): QuarantineDetail {
  return {
    consumer: q.consumer,
    topic: q.topic,
    partition: q.partition,
    state: q.retrying ? 'retrying' : 'quarantined',
    since: new Date(q.since).toISOString(),
    retry_at: new Date(q.retryAt).toISOString(),
    reason: q.reason,
  };
}

const PENDING = 'pending migrations';

/** What stops working while a non-blocking dependency is down (tails and Kafka consumption go on). */
const AFFECTED = {
  influxdb: DEPENDENCY_AFFECTED.influxdb,
  postgresql: DEPENDENCY_AFFECTED.postgresql,
  migrations: 'the schema could not be checked',
};

/** The only words /health/ready (unauthenticated) uses for a failure: never a driver's text, which names hosts and ports. */
function publicError(e: unknown): string {
  const err = e as (Error & { code?: string; detail?: string }) | undefined;
  const text = `${err?.code ?? ''} ${err?.detail ?? ''} ${err?.message ?? ''}`;
  if (/no answer within|timed? ?out|ETIMEDOUT/i.test(text)) return 'timed out';
  if (/credentials rejected|authentication failed|SASL|password/i.test(text)) return 'credentials rejected';
  return 'unreachable';
}

export function healthRouter(core: Core): Router {
  const router = Router();
  const timeout = core.config.readyTimeoutMs;
  const log = core.logger.child({ component: 'health' });
  /** What each dependency last was, so a probe every few seconds logs a change once, not every time. */
  const last = new Map<string, string>();

  function report(name: string, state: DependencyState, detail?: string): DependencyState {
    const now = detail ?? state.state;
    if (last.get(name) !== now) {
      if (state.state === 'DOWN') log.warn({ dependency: name, error: state.error, detail }, 'dependency not ready');
      else if (last.has(name)) log.info({ dependency: name }, 'dependency ready again');
      last.set(name, now);
    }
    return state;
  }

  /** Kafka, PostgreSQL and InfluxDB outages are logged by the dependency tracker, once per change. */
  async function check(name: DependencyName, fn: () => Promise<unknown>): Promise<DependencyState> {
    const askedAt = Date.now();
    try {
      await fn();
      core.dependencies.up(name, askedAt);
      return { state: 'UP' };
    } catch (e) {
      const err = e as Error & { detail?: string };
      core.dependencies.down(name, err?.detail ?? err?.message ?? String(e), e, askedAt);
      return { state: 'DOWN', error: publicError(e) };
    }
  }

  router.get('/healthz', (_req, res) => {
    res.json({ state: 'UP' });
  });
  router.get('/health/live', (_req, res) => {
    res.json({ state: 'UP' });
  });
  router.get('/health/ready', async (_req, res) => {
    const [kafka, influxdb, postgresql] = await Promise.all([
      check('kafka', () => core.kafka.ping(timeout)),
      check('influxdb', () => core.influx.ping(timeout)),
      check('postgresql', () => core.db.ping(timeout)),
    ]);
    let migrations: DependencyState = { state: 'DOWN', error: 'not checked: PostgreSQL is down' };
    if (postgresql.state === 'UP') {
      try {
        const pending = await pendingMigrations(core.db);
        migrations = report(
          'migrations',
          pending.length ? { state: 'DOWN', error: PENDING } : { state: 'UP' },
          pending.length ? `pending: ${pending.join(', ')}` : undefined,
        );
      } catch (e) {
        migrations = report('migrations', { state: 'DOWN', error: publicError(e) }, (e as Error)?.message);
      }
    }
    // Partitions a consumer holds as poison: the others keep flowing, so the node stays ready (DEGRADED).
    const quarantined = core.dependencies.quarantines().map(quarantineDetail);
    const heldBy = (name: string) => quarantined.filter((q) => q.consumer === name).length;
    // Each Kafka consumer as `consumer:<name>` (tail-hub, drains, builds), once it has run or crashed.
    const consumers: Record<string, DependencyState> = Object.fromEntries(
      Object.entries(core.dependencies.consumerStates()).map(([name, c]) => [
        `consumer:${name}`,
        c.state === 'running'
          ? heldBy(name)
            ? { state: 'DEGRADED', error: `${heldBy(name)} partition${heldBy(name) === 1 ? '' : 's'} quarantined` }
            : { state: 'UP' }
          : {
              state: 'DOWN',
              error: `${c.looping ? 'crash-looping' : 'restarting'} (${c.crashes} crash${c.crashes === 1 ? '' : 'es'} since ${c.since.toISOString()}, no progress since)`,
            },
      ]),
    );
    // Crash-looping (lib/dependencies CRASH_LOOP) blocks; a consumer restarting after a crash degrades.
    const crashed = core.dependencies.loopingConsumers();
    const restarting = core.dependencies.crashedConsumers().filter((name) => !crashed.includes(name));
    const dependencies = { kafka, influxdb, postgresql, migrations, ...consumers };
    const detail = quarantined.length ? { quarantined } : {};
    // Not ready only when the node cannot do its main job (docs/design.md "Operating logway itself"): Kafka
    // unreachable, migrations known to be pending, or a consumer crash-looping (a poison topic, a
    // codec it cannot read: the node would take traffic it cannot serve). PostgreSQL or InfluxDB
    // down leaves tails working, so the node stays in the load balancer, DEGRADED; taking every
    // node out would make it worse.
    const blocking = [
      kafka.state === 'DOWN' && 'kafka down',
      migrations.error === PENDING && 'migrations pending',
      ...crashed.map((name) => `consumer ${name} crash-looping`),
    ].filter(Boolean);
    if (blocking.length) {
      res.status(503).json({ state: 'DOWN', message: `Not ready: ${blocking.join(', ')}.`, dependencies, ...detail });
      return;
    }
    // migrations not checked because PostgreSQL is down is said once, by postgresql.
    const degraded = (['influxdb', 'postgresql', 'migrations'] as const).filter(
      (name) => dependencies[name].state === 'DOWN' && !(name === 'migrations' && postgresql.state === 'DOWN'),
    );
    if (degraded.length || restarting.length || quarantined.length) {
      const what = [
        ...degraded.map((name) => `${name} down (affects: ${AFFECTED[name]})`),
        ...restarting.map((name) => `consumer ${name} restarting after a crash`),
        ...quarantined.map((q) => `consumer ${q.consumer} ${q.state === 'retrying' ? 'retrying' : 'holds'} poison partition ${q.topic}:${q.partition}`),
      ].join('; ');
      res.status(200).json({ state: 'DEGRADED', message: `Degraded: ${what}.`, dependencies, ...detail });
      return;
    }
    res.status(200).json({ state: 'UP', dependencies });
  });

  router.get('/metrics', requireMetricsToken(core.config.metricsToken), async (req, res) => {
    const registry = await core.prom.exposed();
    if ((req.get('accept') ?? '').includes('application/json')) {
      res.json(await registry.getMetricsAsJSON());
      return;
    }
    res.setHeader('Content-Type', core.prom.registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
