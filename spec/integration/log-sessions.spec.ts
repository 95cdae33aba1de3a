/** Log sessions against the real local Kafka and PostgreSQL: history, tail, filters, formats, validation (docs/design.md §2, §3). */
import http from 'node:http';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Core } from '../../lib/core';
import type { TailFeature } from '../../lib/tail/feature';
import { resumeTag } from '../../lib/tail/token';
import { uniqueName, authHeader } from '../helpers/env';
import { POD, ProducedMessage } from '../helpers/app-message';
import { TailNode } from '../helpers/tail-node';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

describe('log sessions (real Kafka)', () => {
  let node: TailNode;
  let core: Core;
  let feature: TailFeature;
  let server: http.Server;
  let base: string;
  const space = uniqueName('sp');
  const a1 = uniqueName('a');
  const a2 = uniqueName('b');
  const k1 = `${a1}-${space}`;
  const k2 = `${a2}-${space}`;
  const produce = (app: string, msgs: ProducedMessage[]) => node.produce(app, msgs);
  const session = (app: string, body: object, path?: string) => node.session(app, body, path);
  const open = (url: string, headers?: Record<string, string>) => node.open(url, headers);

  beforeAll(async () => {
    node = await TailNode.start({ space, feature: { reading: 'every-topic', keepaliveMs: 300, retryMs: 1500, sessionBufferLines: 50 } });
    ({ core, feature, server, base } = node);
    // A brand-new space: the hub must pick its topic up without a restart.
    await produce(a1, [{ log: 'first line of a new space' }]);
    await node.subscribed(k1);
  });

  afterAll(() => node?.stop());

  it('learns apps from the stream and answers GET /apps/:app for the Heroku CLI', async () => {
    const res = await request(server).get(`/apps/${k1}`).set(authHeader);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: k1, generation: 'cedar' });
    const missing = await request(server).get(`/apps/nope${a1}-${space}`).set(authHeader);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ id: 'not_found', message: `The specified application nope${a1}-${space} does not exist.` });
    expect((await request(server).get(`/apps/${k1}`)).status).toBe(401);
  });

  it('a session for one app sees only its own lines, in order, in the Akkeris text format', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) {
      mine.push(...(await produce(a1, [{ log: `own ${i}` }])));
      await produce(a2, [{ log: `other ${i}` }]);
    }
    await waitFor('lines consumed', () => feature.hub.rings.peek(k2)?.size === 3);
    const s = open(await session(k1, { lines: 250, tail: false }));
    await s.done();
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/plain/);
    // Cold ring filled from Kafka: the line produced before the hub noticed the topic is there too.
    expect(s.lines()).toEqual([expect.stringMatching(new RegExp(`^\\S+Z ${k1} app\\[web\\.${POD}\\]: first line of a new space$`)), ...mine]);
  });

  it('history: lines N gives exactly the last N matching lines and ends without tail', async () => {
    const all = await produce(
      a1,
      Array.from({ length: 8 }, (_, i) => ({ log: `hist ${i}` })),
    );
    await node.consumed(k1, 'hist 7');
    const s = open(await session(k1, { lines: 5, tail: false }));
    await s.done();
    expect(s.lines()).toEqual(all.slice(3));
    // Numeric strings are accepted (older clients).
    const s2 = open(await session(k1, { lines: '2' }));
    await s2.done();
    expect(s2.lines()).toEqual(all.slice(6));
  });

  it('with tail: history first, then live lines, no gap and no duplicate', async () => {
    const before = await produce(a1, [{ log: 'tail-h 1' }, { log: 'tail-h 2' }]);
    await node.consumed(k1, 'tail-h 2');
    const s = open(await session(k1, { lines: 2, tail: true }));
    await s.until((x) => x.lines().length >= 2, 20000, 'history');
    const live = await produce(a1, [{ log: 'tail-l 1' }, { log: 'tail-l 2' }, { log: 'tail-l 3' }]);
    await s.until((x) => x.lines().length >= 5, 20000, 'live lines');
    expect(s.lines()).toEqual([...before, ...live]);
    expect(s.ended).toBe(false);
    expect(feature.sessions.size).toBeGreaterThan(0);
    s.close();
  });

  it('filters apply before the lines count: dyno exact, type prefix, type, source, regex', async () => {
    const [w1] = await produce(a1, [{ log: 'f web-a', pod: `${a1}-web-111-aaaaa` }]);
    const [w2] = await produce(a1, [{ log: 'f web-b', pod: `${a1}-web-222-bbbbb` }]);
    const workers = await produce(a1, [
      { log: 'f worker-1', type: 'worker', pod: `${a1}-worker-333-ccccc` },
      { log: 'f worker-2 needle', type: 'worker', pod: `${a1}-worker-333-ccccc` },
    ]);
    const [ev] = await produce(a1, [{ log: 'Creating Dyno event', pod: 'akkeris/event' }]);
    const noise = await produce(
      a1,
      Array.from({ length: 5 }, (_, i) => ({ log: `f noise ${i}` })),
    );
    await node.consumed(k1, 'f noise 4');

    const read = async (body: object) => {
      const s = open(await session(k1, { tail: false, ...body }));
      await s.done();
      return s.lines();
    };
    expect(await read({ lines: 1, dyno: 'web.111-aaaaa' })).toEqual([w1]);
    expect(await read({ lines: 1, dyno_name: 'web.222-bbbbb' })).toEqual([w2]);
    expect(await read({ lines: 2, dyno: 'worker' })).toEqual(workers);
    expect(await read({ lines: 5, type: 'worker' })).toEqual(workers);
    expect(await read({ lines: 1, source: 'akkeris/event' })).toEqual([ev]);
    expect(await read({ lines: 1, filter: 'need[l]e' })).toEqual([workers[1]]);
    expect(await read({ lines: 3, filter: '^f noise' })).toEqual(noise.slice(2));
  });

  it('filters: since relative and RFC3339', async () => {
    const t0 = Date.now();
    const old = await produce(a1, [
      { log: 'since old', time: new Date(t0 - 3 * 3600_000) },
      { log: 'since mid', time: new Date(t0 - 90 * 60_000) },
    ]);
    const recent = await produce(a1, [{ log: 'since new' }]);
    await node.consumed(k1, 'since new');
    const read = async (body: object) => {
      const s = open(await session(k1, { tail: false, filter: '^since ', ...body }));
      await s.done();
      return s.lines();
    };
    expect(await read({ lines: 10, since: '1h' })).toEqual(recent);
    expect(await read({ lines: 10, since: '2h' })).toEqual([old[1], ...recent]);
    expect(await read({ lines: 10, since: new Date(t0 - 4 * 3600_000).toISOString() })).toEqual([...old, ...recent]);
    expect(await read({ lines: 10, since: new Date(t0 - 100 * 60_000).toISOString().replace('Z', '+00:00') })).toEqual([old[1], ...recent]);
  });

  it('NDJSON for ?format=json and Accept: application/x-ndjson', async () => {
    const [line] = await produce(a1, [{ log: 'json me', stream: 'stderr' }]);
    await node.consumed(k1, 'json me');
    const url = await session(k1, { lines: 1, tail: false });
    const s = open(`${url}?format=json`);
    await s.done();
    expect(s.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const obj = JSON.parse(s.lines()[0]);
    expect(obj).toMatchObject({
      app: a1,
      space,
      app_key: k1,
      source: 'app',
      dyno: `web.${POD}`,
      process_type: 'web',
      severity: 3,
      message: 'json me',
      kafka_topic: space,
    });
    expect(obj.time).toBe(line.split(' ')[0]);
    const s2 = open(url, { Accept: 'application/x-ndjson' });
    await s2.done();
    expect(JSON.parse(s2.lines()[0]).message).toBe('json me');
  });

  it('validation: lines, regex, unknown app', async () => {
    const post = (body: unknown, app = k1) =>
      request(server)
        .post(`/apps/${app}/log-sessions`)
        .set(authHeader)
        .send(body as object);
    const notNumber = { id: 'unprocessable_entity', message: 'The specified lines was either not a number or less than 1.' };
    for (const lines of [0, -3, 'abc', 2.5, null]) {
      const r = await post({ lines, tail: false });
      expect([lines, r.status, r.body]).toEqual([lines, 422, notNumber]);
    }
    const missing = await post({ tail: true });
    expect([missing.status, missing.body]).toEqual([422, notNumber]);
    const big = await post({ lines: 251 });
    expect([big.status, big.body]).toEqual([
      422,
      { id: 'unprocessable_entity', message: 'The specified lines field was larger than allowed (250 is the maximum).' },
    ]);
    expect((await post({ lines: 250 })).status).toBe(201);
    const badRe = await post({ lines: 5, filter: '([a-z' });
    expect(badRe.status).toBe(422);
    expect(badRe.body.id).toBe('unprocessable_entity');
    expect((await post({ lines: 5, since: 'yesterday-ish' })).status).toBe(422);
    const unknown = await post({ lines: 5 }, `zz${a1}-${space}`);
    expect([unknown.status, unknown.body]).toEqual([404, { id: 'not_found', message: `The specified application zz${a1}-${space} does not exist.` }]);
    expect((await request(server).post(`/apps/${k1}/log-sessions`).send({ lines: 5 })).status).toBe(401);
    const ok = await post({ lines: 5, tail: true });
    expect(ok.status).toBe(201);
    expect(Object.keys(ok.body).sort()).toEqual(['created_at', 'id', 'logplex_url', 'updated_at']);
    expect(ok.body.logplex_url.startsWith(`${base}/log-sessions/`)).toBe(true);
  });

  it('expired and tampered tokens are 404 JSON, never a stack trace', async () => {
    const url = await session(k1, { lines: 5, tail: false });
    const token = url.slice(url.lastIndexOf('/') + 1);
    const [h, p, sig] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const other = Buffer.from(JSON.stringify({ ...payload, n: k2 })).toString('base64url');
    const expired = jwt.sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 1 }, core.config.sessionSecret, { algorithm: 'HS256', noTimestamp: true });
    const forged = jwt.sign(payload, 'some-other-secret-0123456789', { algorithm: 'HS256', noTimestamp: true });
    for (const bad of [`${h}.${other}.${sig}`, expired, forged, 'garbage', `${token}x`]) {
      const r = await request(server).get(`/log-sessions/${bad}`);
      expect([bad, r.status, r.body]).toEqual([bad, 404, { id: 'not_found', message: 'The specified log session was not found or has expired.' }]);
    }
    expect((await request(server).get(`/log-sessions/${token}`)).status).toBe(200);

    // Past the open window, only a Last-Event-ID tagged for this very session reopens it (resume).
    const cursor = `${space}:0:0`;
    const resume = (id: string) => request(server).get(`/log-sessions/${expired}`).set('Accept', 'text/event-stream').set('Last-Event-ID', id);
    for (const bad of [cursor, `${cursor}~${resumeTag(token, core.config.sessionSecret)}`, `${cursor}~forged`]) {
      expect([bad, (await resume(bad)).status]).toEqual([bad, 404]);
    }
    const ok = await resume(`${cursor}~${resumeTag(expired, core.config.sessionSecret)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/event-stream/);
  });

  it('site sessions show router lines for the site', async () => {
    const site = `${uniqueName('www')}.example.com`;
    const routerLine = (p: string) =>
      `bytes=12 request_id=r1 status=200 source=1.2.3.4 method=GET hostname=${a1}-${space}.example.io path=/x site_domain=${site} site_path=${p} service=5ms total=6ms`;
    await core.kafka.produce('alamoweblogs', [
      { key: site, value: routerLine('/one') },
      { key: site, value: routerLine('/two') },
    ]);
    await waitFor('router lines consumed', () => feature.hub.rings.peek(site)?.size === 2);
    const s = open(await session(site, { lines: 5, tail: false }, `/sites/${site}/log-sessions`));
    await s.done();
    expect(s.lines()).toHaveLength(2);
    expect(s.lines()[1]).toMatch(new RegExp(`^\\S+Z ${site.replace(/\./g, '\\.')} akkeris/router: .*host=${site.replace(/\./g, '\\.')} path=/two$`));
    // The same request shows on the app too.
    const a = open(await session(k1, { lines: 1, source: 'router', tail: false }));
    await a.done();
    expect(a.lines()[0]).toMatch(new RegExp(`akkeris/router: .*host=${k1} path=/x$`));
  });

  it('counts malformed messages and keeps going', async () => {
    const before = (await feature.hub.metrics.malformed.get()).values.reduce((n, v) => n + v.value, 0);
    await core.kafka.produce(space, [{ value: '{not json' }, { value: JSON.stringify({ log: 'no kubernetes' }) }]);
    const [after] = await produce(a1, [{ log: 'after malformed' }]);
    await node.consumed(k1, 'after malformed');
    const now = (await feature.hub.metrics.malformed.get()).values.reduce((n, v) => n + v.value, 0);
    expect(now - before).toBe(2);
    const s = open(await session(k1, { lines: 1, tail: false }));
    await s.done();
    expect(s.lines()).toEqual([after]);
  });
});
