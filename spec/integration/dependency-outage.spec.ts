/**
 * Logs worth reading (issue 13): an InfluxDB outage (INFLUX_URL at a port that resets every connection) under
 * many metrics requests is one warn line naming what it affects, not one per request; no 503 log
 * line carries a stack; the dependency gauge reads 0; when InfluxDB answers again, one info line
 * says how long it was gone. PostgreSQL and Kafka are the real ones.
 */
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, createCore, Core } from '../../lib/core';
import { createLogger } from '../../lib/logger';
import { createMetricsFeature } from '../../lib/metrics';
import { testConfig, uniqueName, authHeader } from '../helpers/env';
import { CapturedLog } from '../helpers/captured-log';
import { SwitchableServer } from '../helpers/ports';

jest.setTimeout(90_000);

describe('an InfluxDB outage in the logs', () => {
  const captured = new CapturedLog();
  const appKey = `${uniqueName('o')}-${uniqueName('sp')}`;
  let core: Core;
  let app: ReturnType<typeof createApp>;
  // Holds its port throughout: a port closed and reused by the next listen(0) answered 404, not 503.
  const influx = new SwitchableServer((_req, res) => {
    res.statusCode = 204;
    res.end();
  });

  beforeAll(async () => {
    await influx.listen();
    const config = testConfig({ LOG_LEVEL: 'debug', INFLUX_URL: influx.url });
    core = createCore(config, { logger: createLogger('debug', captured), defaultMetrics: false });
    await core.apps.register(appKey);
    // createApp mounts /health and /metrics; the metrics feature brings its own routes.
    app = createApp(core, [createMetricsFeature(core)]);
  });

  afterAll(async () => {
    await influx.close();
    if (core) await closeCore(core);
  });

  it('many failing metrics requests: every one a 503, one warn line, no stack anywhere; back: one info line', async () => {
    const to = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 20; i++) {
      const res = await request(app)
        .get(`/apps/${appKey}/metrics`)
        .query({ from: new Date(to - 3_600_000 - i * 60_000).toISOString(), to: new Date(to - i * 60_000).toISOString(), resolution: '10m' })
        .set(authHeader);
      expect(res.status).toBe(503);
      expect(res.body.id).toBe('service_unavailable');
    }
    const ready = await request(app).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.state).toBe('DEGRADED');

    const lines = captured.lines();
    const loud = lines.filter((l) => Number(l.level) >= 40);
    expect(loud).toHaveLength(1);
    expect(loud[0]).toMatchObject({ level: 40, dependency: 'influxdb', msg: 'influxdb unreachable; affected: metrics API' });
    // No line about a failed request (at any level) carries an error object or a stack.
    expect(captured.text).not.toMatch(/"stack"|\n\s+at /);
    const failed = lines.filter((l) => l.msg === 'request failed: dependency unavailable');
    expect(failed).toHaveLength(20);
    expect(failed.every((l) => l.level === 20 && l.err === undefined && l.dependency === 'InfluxDB')).toBe(true);

    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toContain('logway_dependency_up{dependency="influxdb"} 0');
    expect(metrics.text).toContain('logway_dependency_up{dependency="postgresql"} 1');
    expect(metrics.text).toContain('logway_dependency_state_changes_total{dependency="influxdb",state="down"} 1');

    // InfluxDB answers again on that port: the next readiness check brings it back, said once.
    influx.up = true;
    for (let i = 0; i < 3; i++) expect((await request(app).get('/health/ready')).body.state).toBe('UP');
    const back = captured.lines().filter((l) => l.dependency === 'influxdb' && l.level === 30);
    expect(back).toHaveLength(1);
    expect(back[0].msg).toMatch(/^influxdb is back after /);
    expect(Number(back[0].down_ms)).toBeGreaterThan(0);
    expect((await request(app).get('/metrics')).text).toContain('logway_dependency_up{dependency="influxdb"} 1');
  });
});
