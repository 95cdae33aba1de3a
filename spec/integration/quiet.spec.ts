/**
 * Quiet about secrets and internals (issue 9 item 7): a logplex_url token never reaches the logs,
 * whatever is done with it, and what unauthenticated clients read of an outage names no host or port.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, createCore, Core } from '../../lib/core';
import { createLogger } from '../../lib/logger';
import { createUpstreamProxy } from '../../lib/proxy';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { createTestCore, testConfig, uniqueName, authHeader } from '../helpers/env';
import { waitFor } from '../helpers/wait';
import { CapturedLog } from '../helpers/captured-log';
import { REFUSED_PORT } from '../helpers/ports';

jest.setTimeout(90_000);

/** An address as a driver error would name it: IPv4, `host:port`, or `localhost`. */
const ADDRESS = /\d{1,3}(\.\d{1,3}){3}|localhost|\w:\d/;

describe('log-session tokens', () => {
  const captured = new CapturedLog();
  const space = uniqueName('quiet');
  const appKey = `api-${space}`;
  let core: Core;
  let feature: TailFeature;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    const config = testConfig({ LOG_LEVEL: 'trace' });
    core = createCore(config, { logger: createLogger('trace', captured), defaultMetrics: false });
    await core.kafka.createTopic(space, 1);
    await core.kafka.produce(space, [
      {
        value: JSON.stringify({
          log: 'a line worth reading\n',
          stream: 'stdout',
          time: new Date().toISOString(),
          kubernetes: { namespace_name: space, pod_name: `api-web-1562910588-cg82f`, container_name: 'api' },
          topic: space,
        }),
      },
    ]);
    await core.apps.register(appKey);
    feature = createTailFeature(core);
    await feature.start();
    // Requests logway does not own go to an upstream that is down: the proxy's failure is logged too.
    const upstream = `http://127.0.0.1:${REFUSED_PORT}`;
    server = http.createServer(createApp(core, [feature], { fallback: createUpstreamProxy(upstream, core.logger) }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await feature?.stop();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await closeCore(core);
  });

  it('appears nowhere in the logs: streams in every format, misuse, and the upstream fallback', async () => {
    const created = await request(server).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 5, tail: false }).expect(201);
    const token = new URL(created.body.logplex_url).pathname.split('/').pop()!;
    expect(token.split('.')).toHaveLength(3);
    const ids: string[] = [];
    const id = (what: string) => {
      ids.push(`${what}-${uniqueName('r')}`);
      return ids[ids.length - 1];
    };

    const text = await request(base).get(`/log-sessions/${token}`).set('X-Request-Id', id('text')).expect(200);
    expect(text.text).toContain('a line worth reading');
    await request(base).get(`/log-sessions/${token}?format=json`).set('X-Request-Id', id('ndjson')).expect(200);
    await request(base).get(`/log-sessions/${token}`).set('Accept', 'text/event-stream').set('X-Request-Id', id('sse')).expect(200);
    // A token that no longer verifies, a resume cursor naming it, and routes that do not exist.
    await request(base).get(`/log-sessions/${token}x`).set('X-Request-Id', id('forged')).expect(404);
    await request(base)
      .get(`/log-sessions/${token}`)
      .set('Accept', 'text/event-stream')
      .set('Last-Event-ID', `${space}:0:0~${token}`)
      .set('X-Request-Id', id('resume'))
      .expect(200);
    await request(base).get(`/log-sessions/${token}/more?token=${token}`).set('X-Request-Id', id('unknown')).expect(503);
    await request(base).post(`/log-sessions/${token}`).set('X-Request-Id', id('post')).expect(503);

    // Access lines are written when each response closes.
    await waitFor('an access log line for every request', async () =>
      ids.every((i) => captured.lines().some((l) => l.request_id === i && l.msg === 'request')),
    );
    const access = captured.lines().filter((l) => ids.includes(String(l.request_id)) && l.msg === 'request');
    expect(access.filter((l) => !String(l.request_id).startsWith('unknown') && !String(l.request_id).startsWith('post')).map((l) => l.route)).toEqual(
      Array(5).fill('/log-sessions/:token'),
    );
    const [header, payload, signature] = token.split('.');
    expect(captured.text).not.toContain(signature);
    expect(captured.text).not.toContain(payload);
    expect(captured.text).not.toContain(`${header}.${payload}`);
    // The upstream proxy did log its failures (so the check above looked at them).
    expect(captured.lines().filter((l) => l.msg === 'upstream request failed')).toHaveLength(2);
  });
});

describe('outages as unauthenticated clients see them', () => {
  // Kafka stays the real one: a client of a closed broker port keeps retrying after the test ends.
  it('/health/ready names each dependency down, but no host or port; the detail goes to the logs', async () => {
    const captured = new CapturedLog();
    const config = testConfig({
      LOG_LEVEL: 'warn',
      INFLUX_URL: 'http://127.0.0.1:1',
      DATABASE_URL: 'postgres://logway:logway@127.0.0.1:1/logway',
    });
    const down = createCore(config, { logger: createLogger('warn', captured), defaultMetrics: false });
    try {
      const res = await request(createApp(down, [])).get('/health/ready');
      for (const name of ['influxdb', 'postgresql']) {
        expect(res.body.dependencies[name]).toEqual({ state: 'DOWN', error: expect.any(String) });
      }
      expect(res.text).not.toMatch(ADDRESS);
      expect(captured.text).toMatch(/127\.0\.0\.1:1/);
    } finally {
      await closeCore(down);
    }
  });

  it('a 503 from the API names the dependency, but no host or port', async () => {
    const down = createTestCore({ DATABASE_URL: 'postgres://logway:logway@127.0.0.1:1/logway' });
    const feature = createTailFeature(down);
    try {
      const res = await request(createApp(down, [feature]))
        .post(`/apps/api-${uniqueName('sp')}/log-sessions`)
        .set(authHeader)
        .send({ lines: 1 });
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/^PostgreSQL is unavailable/);
      expect(res.text).not.toMatch(ADDRESS);
    } finally {
      await closeCore(down);
    }
  });
});
