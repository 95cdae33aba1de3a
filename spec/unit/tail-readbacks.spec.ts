/** The per-node bound on concurrent Kafka read-backs (history back-fills and resumes). */
import { ReadbackLimiter } from '../../lib/tail/readbacks';
import { TooManyRequests } from '../../lib/errors';

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('ReadbackLimiter', () => {
  it('runs at most `max` at once, queues up to `queueLength` more, refuses the rest with 429 and Retry-After seconds', async () => {
    const limiter = new ReadbackLimiter({ max: 2, queueLength: 1 });
    const started: string[] = [];
    const gates = { a: deferred(), b: deferred(), c: deferred() };
    const job = (name: keyof typeof gates) =>
      limiter.run(async () => {
        started.push(name);
        await gates[name].promise;
        return name;
      });
    const a = job('a');
    const b = job('b');
    const c = job('c');
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect([limiter.running, limiter.queued]).toEqual([2, 1]);

    const refused = await limiter.run(async () => 'd').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyRequests);
    expect(refused).toMatchObject({ status: 429, id: 'rate_limited', retryAfterSeconds: expect.any(Number) });
    expect((refused as TooManyRequests).message).toMatch(/history reads/);

    gates.a.resolve();
    expect(await a).toBe('a');
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    expect([limiter.running, limiter.queued]).toEqual([2, 0]);
    gates.b.resolve();
    gates.c.resolve();
    expect(await Promise.all([b, c])).toEqual(['b', 'c']);
    expect([limiter.running, limiter.queued]).toEqual([0, 0]);
  });

  it('a read-back that fails frees its slot', async () => {
    const limiter = new ReadbackLimiter({ max: 1, queueLength: 0 });
    await expect(limiter.run(async () => Promise.reject(new Error('Kafka down')))).rejects.toThrow('Kafka down');
    expect(limiter.running).toBe(0);
    expect(await limiter.run(async () => 'ok')).toBe('ok');
  });
});
