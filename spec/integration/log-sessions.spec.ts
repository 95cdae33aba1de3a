/** Log sessions and live tail against the real local Kafka and PostgreSQL (docs/design.md §2, §3). */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { resumeTag } from '../../lib/tail/token';
import { createTestCore, uniqueName, authHeader } from '../helpers/env';

jest.setTimeout(90_000);

const POD = '1562910588-cg82f';

function appMessage(app: string, space: string, log: string, time: Date, o: { type?: string; pod?: string; stream?: string } = {}): string {
  const type = o.type ?? 'web';
  return JSON.stringify({
    log: `${log}\n`,
    stream: o.stream ?? 'stdout',
    time: time.toISOString(),
    docker: { container_id: '790e' },
    kubernetes: {
      namespace_name: space,
      pod_id: '5391',
      pod_name: o.pod ?? `${app}-${type}-${POD}`,
      container_name: type === 'web' ? app : `${app}--${type}`,
      labels: { name: app },
      host: 'ip-10-0-0-1',
    },
    topic: space,
    tag: 'x',
  });
}

/** A streaming reader over a raw http request (supertest buffers; streams must be read as they come). */
class Stream {
  text = '';
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  res?: http.IncomingMessage;
  private req: http.ClientRequest;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.req = http.get(url, { headers }, (res) => {
      this.res = res;
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        this.text += d;
        this.poke();
      });
      res.on('end', () => {
        this.ended = true;
        this.poke();
      });
      res.on('error', () => this.poke());
      this.poke();
    });
    this.req.on('error', () => {
      this.ended = true;
      this.poke();
    });
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Resolves when pred holds; rejects with what was read so far after the deadline. */
  async until(pred: (s: Stream) => boolean, ms = 20000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; read so far:\n${this.text.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  done(ms = 20000): Promise<void> {
    return this.until((s) => s.ended, ms, 'end of stream');
  }

  lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }

  close(): void {
    this.req.destroy();
  }
}

async function poll<T>(fn: () => Promise<T | undefined | null | false>, ms = 20000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const iso = (d: Date) => d.toISOString();

describe('log sessions (real Kafka)', () => {
  let core: Core;
  let feature: TailFeature;
  let server: http.Server;
  let base: string;
  const space = uniqueName('sp');
  const a1 = uniqueName('a');
  const a2 = uniqueName('b');
  const k1 = `${a1}-${space}`;
  const k2 = `${a2}-${space}`;
  let clock = 0;
  /** Strictly increasing line times close to now, so "the last N" and "in order" are well defined. */
  const nextTime = () => new Date((clock = Math.max(clock + 1, Date.now())));
  const streams: Stream[] = [];

  async function produce(app: string, msgs: { log: string; type?: string; pod?: string; time?: Date; stream?: string }[]): Promise<string[]> {
    const expected: string[] = [];
    const records = msgs.map((m) => {
      const t = m.time ?? nextTime();
      const type = m.type ?? 'web';
      const platform = m.pod?.startsWith('akkeris/');
      const tag = platform ? m.pod! : `app[${type}.${m.pod ? m.pod.slice(`${app}-${type}-`.length) : POD}]`;
      expected.push(`${iso(t)} ${app}-${space} ${tag}: ${m.log}`);
      return { key: app, value: appMessage(app, space, m.log, t, m) };
    });
    await core.kafka.produce(space, records);
    return expected;
  }

  async function session(app: string, body: object, path = `/apps/${app}/log-sessions`): Promise<string> {
    const res = await request(server).post(path).set(authHeader).send(body);
    expect(res.status).toBe(201);
    return res.body.logplex_url as string;
  }

  function open(url: string, headers: Record<string, string> = {}): Stream {
    const s = new Stream(url, headers);
    streams.push(s);
    return s;
  }

  beforeAll(async () => {
    core = createTestCore();
    // The URL the tests open is the listening server's.
    server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    (core.config as { publicUrl: string }).publicUrl = base;
    feature = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250, keepaliveMs: 300, retryMs: 1500, sessionBufferLines: 50 });
    server.on('request', createApp(core, [feature]));
    await feature.start();
    // A brand-new space: the hub must pick its topic up without a restart.
    await produce(a1, [{ log: 'first line of a new space' }]);
    await poll(async () => feature.hub.topics.includes(space), 20000, 'the hub to subscribe the new topic');
    await poll(() => core.apps.find(k1), 20000, 'app registered from the stream');
  });

  afterAll(async () => {
    streams.forEach((s) => s.close());
    await feature.stop();
    await new Promise<void>((r) => server.close(() => r()));
    await closeCore(core);
  });

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
    await poll(async () => feature.hub.rings.peek(k2)?.size === 3, 20000, 'lines consumed');
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
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'hist 7'),
      20000,
      'lines consumed',
    );
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
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'tail-h 2'),
      20000,
      'lines consumed',
    );
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
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'f noise 4'),
      20000,
      'lines consumed',
    );

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
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'since new'),
      20000,
      'lines consumed',
    );
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
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'json me'),
      20000,
      'lines consumed',
    );
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

  it('SSE: retry hint, ids, data lines, keepalive, clean end; Last-Event-ID resumes without history', async () => {
    const hist = await produce(a1, [{ log: 'sse h1' }, { log: 'sse h2' }]);
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'sse h2'),
      20000,
      'lines consumed',
    );
    const url = await session(k1, { lines: 2, tail: true });
    const s = open(url, { Accept: 'text/event-stream' });
    await s.until((x) => x.text.includes('data: ' + hist[1]), 20000, 'history events');
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.text.startsWith('retry: 1500\n\n')).toBe(true);
    await s.until((x) => x.text.includes(': keepalive\n'), 20000, 'keepalive comment');
    const live1 = await produce(a1, [{ log: 'sse l1' }]);
    await s.until((x) => x.text.includes('data: ' + live1[0]), 20000, 'live event');
    const events = s.text.split('\n\n').filter((e) => e.startsWith('id: '));
    expect(events.map((e) => e.split('\n')[1])).toEqual([...hist, ...live1].map((l) => `data: ${l}`));
    const lastId = events[events.length - 1].split('\n')[0].slice(4);
    expect(lastId).toMatch(new RegExp(`(^|,)${space}:\\d+:\\d+`));
    s.close();

    // While the client is away, more lines; the resumed stream starts right after the last id.
    const missed = await produce(a1, [{ log: 'sse m1' }, { log: 'sse m2' }]);
    const r = open(url, { Accept: 'text/event-stream', 'Last-Event-ID': lastId });
    await r.until((x) => x.text.includes('data: ' + missed[1]), 20000, 'missed lines after resume');
    const live2 = await produce(a1, [{ log: 'sse l2' }]);
    await r.until((x) => x.text.includes('data: ' + live2[0]), 20000, 'live after resume');
    const data = r.text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(data).toEqual([...missed, ...live2]);
    r.close();

    // Without tail the SSE response ends cleanly after the history.
    const n = open(await session(k1, { lines: 1, tail: false }), { Accept: 'text/event-stream' });
    await n.done();
    expect(n.text).toMatch(/^retry: 1500\n\nid: \S+\ndata: \S+Z \S+ app\[web\.\S+\]: sse l2\n\n$/);
  });

  it('a slow client gets the L11 line later; the other sessions get every line', async () => {
    const url = await session(k1, { lines: 1, tail: true });
    const slow = open(url);
    const fast = open(url);
    await slow.until((x) => x.lines().length >= 1);
    await fast.until((x) => x.lines().length >= 1);
    slow.res!.pause();
    const droppedBefore = (await feature.hub.metrics.linesDropped.get()).values[0]?.value ?? 0;
    const pad = 'x'.repeat(2000);
    const total = 6000;
    for (let i = 0; i < total; i += 200) {
      await produce(
        a1,
        Array.from({ length: 200 }, (_, j) => ({ log: `slow ${i + j} ${pad}` })),
      );
    }
    await fast.until((x) => x.text.includes(`slow ${total - 1} `), 60000, 'all lines at the fast reader');
    const fastLines = fast.lines().filter((l) => l.includes(': slow '));
    expect(fastLines).toHaveLength(total);
    expect(fastLines.map((l) => Number(/: slow (\d+) /.exec(l)![1]))).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(fast.text).not.toContain('Error L11');
    const droppedAfter = (await feature.hub.metrics.linesDropped.get()).values[0]?.value ?? 0;
    expect(droppedAfter).toBeGreaterThan(droppedBefore);

    slow.res!.resume();
    await slow.until((x) => x.text.includes('Error L11 (Tail buffer overflow)'), 60000, 'the L11 line');
    const l11 = slow.lines().find((l) => l.includes('Error L11'))!;
    expect(l11).toMatch(new RegExp(`^\\S+Z ${k1} logway: Error L11 \\(Tail buffer overflow\\) -> This tail session dropped \\d+ messages since \\S+Z\\.$`));
    const counted = (x: Stream) => ({
      got: x.lines().filter((l) => l.includes(': slow ')).length,
      dropped: x
        .lines()
        .filter((l) => l.includes('Error L11'))
        .reduce((n, l) => n + Number(/dropped (\d+) messages/.exec(l)![1]), 0),
    });
    // Every line is either delivered or counted by an L11 line: produced = delivered + dropped.
    await slow.until((x) => counted(x).got + counted(x).dropped === total, 20000, 'every line delivered or counted');
    expect(counted(slow).dropped).toBeGreaterThan(0);
    expect(counted(slow).got + counted(slow).dropped).toBe(total);
    slow.close();
    fast.close();
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
    await poll(async () => feature.hub.rings.peek(site)?.size === 2, 20000, 'router lines consumed');
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
    await poll(
      async () =>
        feature.hub.rings
          .peek(k1)
          ?.toArray()
          .some((l) => l.message === 'after malformed'),
      20000,
      'line after malformed',
    );
    const now = (await feature.hub.metrics.malformed.get()).values.reduce((n, v) => n + v.value, 0);
    expect(now - before).toBe(2);
    const s = open(await session(k1, { lines: 1, tail: false }));
    await s.done();
    expect(s.lines()).toEqual([after]);
  });
});
