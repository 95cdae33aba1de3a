/** Waiting for a state, never for a time: poll a condition; the deadline only bounds a failing test. */

/**
 * Polls `fn` until it returns a truthy value, which it returns. The deadline only bounds a failing
 * test; it is never the assertion. A throw from `fn` counts as "not yet" and is reported on timeout,
 * as is `what` (a function: the state at that moment).
 */
export async function waitFor<T>(
  what: string | (() => string),
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 20000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** For unit specs: `cond` polled every few milliseconds until it holds (logic that settles within a few turns of the loop). */
export function until(cond: () => boolean, what = 'the condition'): Promise<true> {
  return waitFor(what, () => cond() || undefined, 10_000, 2);
}
