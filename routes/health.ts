/** logway's own operational surface: liveness, readiness (each dependency checked), Prometheus metrics. */
import { Router } from 'express';
import { Core } from '../lib/core';
import { pendingMigrations } from '../lib/migrate';

type DependencyState = { state: 'UP' | 'DOWN'; error?: string };

async function check(fn: () => Promise<unknown>): Promise<DependencyState> {
  try {
    await fn();
    return { state: 'UP' };
  } catch (e) {
    return { state: 'DOWN', error: (e as Error).message };
  }
}

export function healthRouter(core: Core): Router {
  const router = Router();
  const timeout = core.config.readyTimeoutMs;

  router.get('/healthz', (_req, res) => {
    res.json({ state: 'UP' });
  });
  router.get('/health/live', (_req, res) => {
    res.json({ state: 'UP' });
  });
  router.get('/health/ready', async (_req, res) => {
    const [kafka, influxdb, postgresql] = await Promise.all([
      check(() => core.kafka.ping(timeout)),
      check(() => core.influx.ping(timeout)),
      check(() => core.db.ping(timeout)),
    ]);
    const migrations: DependencyState =
      postgresql.state === 'UP'
        ? await check(async () => {
            const pending = await pendingMigrations(core.db);
            if (pending.length) throw new Error(`pending: ${pending.join(', ')}`);
          })
        : { state: 'DOWN', error: 'PostgreSQL is down' };
    const dependencies = { kafka, influxdb, postgresql, migrations };
    const ready = Object.values(dependencies).every((d) => d.state === 'UP');
    const down = Object.entries(dependencies)
      .filter(([, d]) => d.state === 'DOWN')
      .map(([name]) => name);
    res.status(ready ? 200 : 503).json({
      state: ready ? 'UP' : 'DOWN',
      ...(ready ? {} : { message: `Not ready: ${down.join(', ')} down.` }),
      dependencies,
    });
  });

  router.get('/metrics', async (req, res) => {
    if ((req.get('accept') ?? '').includes('application/json')) {
      res.json(await core.prom.registry.getMetricsAsJSON());
      return;
    }
    res.setHeader('Content-Type', core.prom.registry.contentType);
    res.send(await core.prom.registry.metrics());
  });
  return router;
}
