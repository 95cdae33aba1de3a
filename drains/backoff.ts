/** Retry timing for drains: exponential backoff with full jitter (docs/design.md §3; AWS Architecture Blog, "Exponential Backoff And Jitter"). */

export interface RetryPolicy {
  /** First backoff ceiling, ms. */
  baseMs: number;
  /** Largest backoff ceiling, ms. */
  capMs: number;
  /** Delivery attempts a batch gets before its lines are parked in the DLQ (the per-drain retry budget). */
  attempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 500, capMs: 30_000, attempts: 8 };

/** min(cap, base·2^n); n is clamped so 2^n never overflows to Infinity. */
export function cappedExponential(n: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, n), 60));
}

/** sleep = random(0, min(cap, base·2^n)), n = failures so far minus one (0 after the first failure). */
export function fullJitterDelay(failures: number, policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * cappedExponential(failures - 1, policy.baseMs, policy.capMs));
}

/** The largest total wait a line can spend in backoff before it is parked (for docs and bounds in tests). */
export function worstCaseBackoffMs(policy: RetryPolicy): number {
  let total = 0;
  for (let f = 1; f < policy.attempts; f++) total += cappedExponential(f - 1, policy.baseMs, policy.capMs);
  return total;
}
