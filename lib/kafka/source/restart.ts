/**
 * The one restart policy of the Kafka log source: after a consumer crash (kafkajs gave up, or a
 * deleted topic it must not retry), the source waits, re-lists the topics and starts a new
 * consumer. The wait doubles with each crash that made no progress (base, 2·base, … up to max)
 * and goes back to base once a batch was handled, so a crash loop is never a tight loop.
 */
export interface RestartPolicy {
  /** Wait after the first crash (ms). */
  baseMs: number;
  /** Longest wait between two restarts (ms). */
  maxMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = { baseMs: 1000, maxMs: 30_000 };

export class RestartBackoff {
  private crashes = 0;

  constructor(private policy: RestartPolicy = DEFAULT_RESTART) {}

  /** Records a crash; returns how long to wait before the next start. */
  crashed(): number {
    const wait = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(this.crashes, 30));
    this.crashes++;
    return wait;
  }

  /** A batch was handled: the next crash waits the base time again. */
  progressed(): void {
    this.crashes = 0;
  }

  /** Crashes since the last progress. */
  get streak(): number {
    return this.crashes;
  }
}
