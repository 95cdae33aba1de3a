/** GET /apps/:app/metrics (time-bucketed series per process type) and GET /apps/:app/metrics/current (snapshot). */
import { Response, Router } from 'express';
import type { Core } from '../lib/core';
import { parseMetricsQuery } from '../lib/metrics/params';
import type { MetricsBody, MetricsService } from '../lib/metrics/service';

/** The ETag lets a polling dashboard get a 304 (Express compares If-None-Match) while the answer is unchanged. */
function send(res: Response, body: MetricsBody): void {
  res.set({ 'Content-Type': 'application/json; charset=utf-8', ETag: body.etag });
  // RFC 7234 §5.5.1: a cached answer served past its TTL while InfluxDB is down.
  if (body.stale) res.set('Warning', '110 - "Response is Stale"');
  res.send(body.json);
}

export function metricsRouter(core: Core, service: MetricsService): Router {
  const router = Router();

  router.get('/apps/:app/metrics', core.auth, async (req, res) => {
    const range = parseMetricsQuery(req.query as Record<string, unknown>, service.nowSeconds());
    const app = await core.apps.get(String(req.params.app));
    send(res, await service.series(app.appKey, range));
  });

  router.get('/apps/:app/metrics/current', core.auth, async (req, res) => {
    const app = await core.apps.get(String(req.params.app));
    send(res, await service.snapshot(app.appKey));
  });

  return router;
}
