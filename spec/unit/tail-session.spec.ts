import type { ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { TailSession, StreamFormat, FlushScheduler } from '../../lib/tail/session';
import { StreamLimits } from '../../lib/tail/stream-limits';
import { createTailMetrics } from '../../lib/tail/metrics';
import { negotiateFormat } from '../../lib/tail/feature';
import { jitteredRetryMs } from '../../lib/tail/closing';
import type { LogLine } from '../../lib/log/line';
import { FakeResponse as FakeRes } from '../helpers/fake-response';
import { numberedLine } from '../helpers/log-line';

const tick = () => new Promise((r) => setImmediate(r));

const line = (i: number, partition = 0) => numberedLine(i, { position: { topic: 'space', partition, offset: String(100 + i) } });
const text = (i: number) => `2026-01-01T00:00:00.${String(i).padStart(3, '0')}Z api-space app[web.1]: line ${i}\n`;

function make(format: StreamFormat = 'text', maxBufferedLines = 3) {
  const res = new FakeRes();
  const metrics = createTailMetrics(new Registry());
  let closed = 0;
  const s = new TailSession(res as unknown as ServerResponse, {
    format,
    key: 'api-space',
    filter: () => true,
    maxBufferedLines,
    metrics,
    onClose: () => closed++,
  });
  s.begin(
    new Map([
      ['space:0', 100],
      ['space:1', 7],
    ]),
  );
  return { res, s, metrics, closed: () => closed };
}

describe('TailSession', () => {
  it('holds live lines until the history is written, then writes both in order, one write per tick', async () => {
    const { res, s, metrics } = make();
    s.accept(line(3));
    await tick();
    expect(res.chunks).toEqual([]);
    s.release([line(1), line(2)]);
    expect(res.text).toBe(text(1) + text(2) + text(3));
    s.accept(line(4));
    s.accept(line(5));
    await tick();
    expect(res.chunks.length).toBe(2);
    expect(res.chunks[1]).toBe(text(4) + text(5));
    expect((await metrics.linesDelivered.get()).values[0].value).toBe(5);
  });

  it('does not drop while the socket keeps up, however many lines arrive in one tick', async () => {
    const { res, s } = make('text', 3);
    s.release([]);
    for (let i = 0; i < 50; i++) s.accept(line(i));
    await tick();
    expect(res.text).not.toContain('L11');
    expect(res.text.split('\n').filter(Boolean)).toHaveLength(50);
  });

  it('buffers a bounded number of lines for a slow client, drops the rest, then says so with L11', async () => {
    const { res, s, metrics } = make('text', 3);
    s.release([]);
    res.full = true;
    s.accept(line(1));
    await tick(); // written; the socket is now full
    for (let i = 2; i <= 10; i++) s.accept(line(i));
    await tick();
    expect(res.chunks).toEqual([text(1)]);
    expect((await metrics.linesDropped.get()).values[0].value).toBe(6);
    res.full = false;
    res.emit('drain');
    const out = res.text.split('\n').filter(Boolean);
    expect(out.slice(0, 4)).toEqual([1, 2, 3, 4].map((i) => text(i).trimEnd()));
    expect(out[4]).toMatch(/^\S+Z api-space logway: Error L11 \(Tail buffer overflow\) -> This tail session dropped 6 messages since \S+Z\.$/);
    s.accept(line(11));
    await tick();
    expect(res.text.endsWith(text(11))).toBe(true);
  });

  it('SSE: history events carry the starting cursor; live events the cursor after the line', async () => {
    const { res, s } = make('sse');
    s.release([line(1)]);
    s.accept(line(2, 1));
    await tick();
    expect(res.text).toBe(`id: space:0:100,space:1:7\ndata: ${text(1).trimEnd()}\n\n` + `id: space:0:100,space:1:103\ndata: ${text(2).trimEnd()}\n\n`);
    s.keepalive(0);
    expect(res.text.endsWith(': keepalive\n\n')).toBe(true);
  });

  it('SSE: writes no keepalive while history is still loading (the headers are not set yet)', () => {
    const { res, s } = make('sse');
    s.keepalive(0, Date.now() + 60_000);
    expect(res.chunks).toEqual([]);
    s.release([]);
    s.keepalive(0, Date.now() + 60_000);
    expect(res.text).toBe(': keepalive\n\n');
  });

  it('NDJSON lines; end() flushes and ends once', async () => {
    const { res, s, closed } = make('ndjson');
    s.release([line(1)]);
    s.accept(line(2));
    s.end();
    s.end();
    expect(res.ended).toBe(true);
    expect(
      res.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).message),
    ).toEqual(['line 1', 'line 2']);
    expect(closed()).toBe(1);
    s.accept(line(3));
    await tick();
    expect(res.text).not.toContain('line 3');
  });
});

describe('TailSession deadline', () => {
  it('the ticker ends the stream cleanly once its maximum duration is reached', () => {
    const { res, s, closed } = make('sse');
    s.release([line(1)]);
    s.deadline = Date.now() + 60_000;
    s.keepalive(15_000);
    expect(res.ended).toBe(false);
    s.keepalive(15_000, Date.now() + 60_001);
    expect(res.ended).toBe(true);
    expect(closed()).toBe(1);
  });
});

const big = (i: number, size: number): LogLine => ({ ...line(i), message: `line ${i} ${'x'.repeat(size)}` });

/** A text session with a byte budget (and the node's limits, if given), still loading its history. */
function budgeted(res: FakeRes, maxBufferedBytes: number, limits?: StreamLimits) {
  const metrics = createTailMetrics(new Registry());
  const s = new TailSession(res as unknown as ServerResponse, {
    format: 'text',
    key: 'api-space',
    filter: () => true,
    maxBufferedLines: 1000,
    maxBufferedBytes,
    metrics,
    limits,
    onClose: () => undefined,
  });
  return { s, metrics };
}

describe('TailSession budgets on every write', () => {
  const session = (res: FakeRes, maxBufferedBytes: number, limits?: StreamLimits) => {
    const made = budgeted(res, maxBufferedBytes, limits);
    made.s.release([]);
    return made;
  };

  it('holds the budget when the very first write meets a full socket', async () => {
    const res = new FakeRes();
    res.full = true;
    const { s, metrics } = session(res, 10_000);
    for (let i = 0; i < 50; i++) s.accept(big(i, 3000));
    await tick();
    expect(res.writableLength + s.queuedBytes).toBeLessThanOrEqual(10_000);
    expect((await metrics.linesDropped.get()).values[0].value).toBeGreaterThan(40);
  });

  it("keeps what all of a node's slow streams hold within the node's budget", async () => {
    const limits = new StreamLimits(10, 20_000);
    const clients = Array.from({ length: 5 }, () => new FakeRes());
    const sessions = clients.map((res) => session(res, 1_000_000, limits).s);
    for (const res of clients) res.full = true;
    // One short line each: written, and every socket pushes back from then on.
    for (const s of sessions) s.accept(big(0, 10));
    await tick();
    for (let i = 1; i <= 40; i++) for (const s of sessions) s.accept(big(i, 3000));
    await tick();
    const held = clients.reduce((n, res, i) => n + res.writableLength + sessions[i].queuedBytes, 0);
    expect(held).toBeLessThanOrEqual(20_000);
    expect(held).toBeGreaterThan(20_000 - 3100);
    expect(limits.queuedBytes).toBe(held);
    for (const res of clients) {
      res.full = false;
      res.emit('drain');
    }
    expect(limits.queuedBytes).toBe(0);
  });

  it("refuses a stream past the node's limit with a 503 to retry", () => {
    const limits = new StreamLimits(2, 1_000_000);
    limits.admit();
    limits.admit();
    expect(() => limits.admit()).toThrow(expect.objectContaining({ status: 503, retryAfterSeconds: 5 }));
    limits.release();
    expect(() => limits.admit()).not.toThrow();
  });
});

describe('format negotiation', () => {
  it('SSE for text/event-stream, NDJSON for ?format=json or x-ndjson, else text', () => {
    expect(negotiateFormat('text/event-stream', undefined)).toBe('sse');
    expect(negotiateFormat('application/x-ndjson', undefined)).toBe('ndjson');
    expect(negotiateFormat('text/event-stream', 'json')).toBe('ndjson');
    expect(negotiateFormat(undefined, undefined)).toBe('text');
    expect(negotiateFormat('*/*', undefined)).toBe('text');
  });
});

describe('TailSession byte budget', () => {
  function makeBudget(maxBufferedBytes: number) {
    const res = new FakeRes();
    return { res, ...budgeted(res, maxBufferedBytes) };
  }

  it('a slow client queues at most maxBufferedBytes, however few lines that is; the rest are dropped and counted by L11', async () => {
    const { res, s, metrics } = makeBudget(10_000);
    s.release([]);
    res.full = true;
    s.accept(big(0, 10));
    await tick(); // written; the socket is now full
    // Each line renders to a little over 3,000 characters: three fit in 10,000, the 47 others do not.
    for (let i = 1; i <= 50; i++) s.accept(big(i, 3000));
    await tick();
    expect(res.chunks).toHaveLength(1);
    expect(s.queuedBytes).toBeGreaterThan(9_000);
    expect(s.queuedBytes).toBeLessThanOrEqual(10_000);
    expect((await metrics.linesDropped.get()).values[0].value).toBe(47);
    res.full = false;
    res.emit('drain');
    const out = res.text.split('\n').filter(Boolean);
    expect(out.slice(1, 4).map((l) => l.split(': ')[1].split(' ').slice(0, 2).join(' '))).toEqual(['line 1', 'line 2', 'line 3']);
    expect(out[4]).toMatch(/^\S+Z api-space logway: Error L11 \(Tail buffer overflow\) -> This tail session dropped 47 messages since \S+Z\.$/);
    expect(s.queuedBytes).toBe(0);
  });

  it('bounds the live lines queued while the history loads the same way', async () => {
    const { res, s, metrics } = makeBudget(10_000);
    for (let i = 1; i <= 10; i++) s.accept(big(i, 3000));
    expect(s.queuedBytes).toBeLessThanOrEqual(10_000);
    expect((await metrics.linesDropped.get()).values[0].value).toBe(7);
    s.release([]);
    expect(res.text).toContain('dropped 7 messages');
  });

  it('never cuts a client that keeps up, however many bytes arrive in one tick', async () => {
    const { res, s } = makeBudget(10_000);
    s.release([]);
    for (let i = 0; i < 50; i++) s.accept(big(i, 3000));
    await tick();
    expect(res.text).not.toContain('L11');
    expect(res.text.split('\n').filter(Boolean)).toHaveLength(50);
  });
});

describe('TailSession closing lines', () => {
  /** aka's colouring regex (Akkeris CLI 3.1.26): `<ts>Z <host> <source>[<dyno>]: `. */
  const AKA_LINE = /^\S+Z \S+ \S+\[\S+\]: /;

  it('text: after what was queued, one Akkeris-shaped line from logway[gateway] saying the server restarts and to reconnect', () => {
    const { res, s, closed } = make('text');
    s.release([line(1)]);
    s.accept(line(2));
    s.end(2000, { reason: 'shutdown' });
    const out = res.text.split('\n').filter(Boolean);
    expect(out.slice(0, 2)).toEqual([text(1), text(2)].map((t) => t.trimEnd()));
    expect(out).toHaveLength(3);
    expect(out[2]).toMatch(AKA_LINE);
    expect(out[2]).toMatch(/^\S+Z api-space logway\[gateway\]: Stream closed: the server is restarting; reconnect to continue\.$/);
    expect(res.ended).toBe(true);
    expect(closed()).toBe(1);
  });

  it('SSE: a named logway-close event (never a default message event) with the retry it was given', () => {
    const { res, s } = make('sse');
    s.release([]);
    s.end(2000, { reason: 'shutdown', retryMs: 3210 });
    expect(res.text).toBe(
      'event: logway-close\nretry: 3210\ndata: {"reason":"shutdown","reconnect":true,"message":"Stream closed: the server is restarting; reconnect to continue."}\n\n',
    );
  });

  it('NDJSON: a type=end record; at the maximum duration (the ticker) the reason is max_duration and no reconnect', () => {
    const { res, s } = make('ndjson');
    s.release([line(1)]);
    s.deadline = 1000;
    s.keepalive(15_000, 1000);
    const records = res.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(2);
    expect(records[0].message).toBe('line 1');
    expect(records[1]).toMatchObject({ type: 'end', reason: 'max_duration', reconnect: false });
    expect(res.ended).toBe(true);
  });

  it('a stream ended without a reason (history only, no tail) gets no closing line', () => {
    const { res, s } = make('text');
    s.release([line(1)]);
    s.end();
    expect(res.text).toBe(text(1));
  });

  it('a stream whose history never started (headers not sent) gets no closing line', () => {
    const { res, s } = make('sse');
    s.end(2000, { reason: 'shutdown', retryMs: 1000 });
    expect(res.text).toBe('');
  });

  it('a blocked client gets the closing line after the queued lines once it drains', () => {
    const { res, s } = make('text');
    s.release([]);
    res.full = true;
    s.accept(line(1));
    s.flush();
    s.accept(line(2));
    s.end(2000, { reason: 'shutdown' });
    expect(res.ended).toBe(false);
    res.full = false;
    res.emit('drain');
    const out = res.text.split('\n').filter(Boolean);
    expect(out.slice(0, 2)).toEqual([text(1), text(2)].map((t) => t.trimEnd()));
    expect(out[2]).toContain('logway[gateway]: Stream closed');
  });
});

describe('jitteredRetryMs', () => {
  it('spreads over [min, max]', () => {
    expect(jitteredRetryMs(1000, 5000, () => 0)).toBe(1000);
    expect(jitteredRetryMs(1000, 5000, () => 0.5)).toBe(3000);
    expect(jitteredRetryMs(1000, 5000, () => 0.999999)).toBe(5000);
  });
});

describe('FlushScheduler', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('flushes on the next turn after a quiet spell, and at most once per intervalMs under a steady stream', async () => {
    let now = 1000;
    const flushes: number[] = [];
    const session = { flush: () => void flushes.push(now) } as unknown as TailSession;
    const scheduler = new FlushScheduler(20, () => now);
    scheduler.add(session);
    await jest.advanceTimersByTimeAsync(0);
    expect(flushes).toEqual([1000]);
    // 5 ms later another line: held until 20 ms after the last flush, not written at once.
    now = 1005;
    scheduler.add(session);
    scheduler.add(session);
    now = 1019;
    await jest.advanceTimersByTimeAsync(14);
    expect(flushes).toEqual([1000]);
    now = 1020;
    await jest.advanceTimersByTimeAsync(1);
    expect(flushes).toEqual([1000, 1020]);
    // Quiet for longer than the interval: the next line goes out on the next turn.
    now = 1100;
    scheduler.add(session);
    await jest.advanceTimersByTimeAsync(0);
    expect(flushes).toEqual([1000, 1020, 1100]);
  });

  it('intervalMs 0 flushes once per event-loop turn, however many lines were queued', async () => {
    let n = 0;
    const session = { flush: () => void n++ } as unknown as TailSession;
    const scheduler = new FlushScheduler(0);
    for (let i = 0; i < 5; i++) scheduler.add(session);
    await jest.advanceTimersByTimeAsync(0);
    expect(n).toBe(1);
  });
});
