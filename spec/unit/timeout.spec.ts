/** lib/timeout: a call that never answers becomes Unavailable naming the dependency; one that answers keeps its value and leaves no timer. */
import { withTimeout } from '../../lib/timeout';
import { Unavailable } from '../../lib/errors';

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with Unavailable(what) once the deadline passes', async () => {
    const never = new Promise<number>(() => undefined);
    const raced = withTimeout(never, 250, 'PostgreSQL');
    const settled = raced.catch((e: unknown) => e);
    jest.advanceTimersByTime(250);
    const err = await settled;
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Error).message).toMatch(/^PostgreSQL is unavailable.*no answer within 250 ms/);
  });

  it('passes an answer or a failure through and clears its timer', async () => {
    await expect(withTimeout(Promise.resolve(7), 250, 'Kafka')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 250, 'Kafka')).rejects.toThrow('boom');
    expect(jest.getTimerCount()).toBe(0);
  });
});
