/**
 * The per-node bound on Kafka read-backs (a cold app's history back-fill, a `since` older than
 * the ring, an SSE resume the ring no longer covers). Each one is a throw-away consumer group
 * reading up to historyScanMessages per partition; unbounded, a burst of cold sessions or resumes
 * multiplies the node's Kafka fetches and memory. At most `max` run at once
 * (MAX_CONCURRENT_READBACKS); up to `queueLength` more wait their turn in order; beyond that a
 * session is answered 429 with Retry-After instead of queueing without end.
 */
import { TooManyRequests } from '../errors';

export const READBACKS_BUSY = 'Too many log history reads are in progress on this node; retry later.';

export class ReadbackLimiter {
  readonly max: number;
  readonly queueLength: number;
  private readonly retryAfterSeconds: number;
  private active = 0;
  private waiting: (() => void)[] = [];

  private readonly onRefused?: () => void;

  constructor(opts: { max: number; queueLength: number; retryAfterSeconds?: number; onRefused?: () => void }) {
    this.max = opts.max;
    this.onRefused = opts.onRefused;
    this.queueLength = opts.queueLength;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? 5;
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` when a slot is free; throws TooManyRequests at once when the queue is full too. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Takes a slot (waiting in the queue if needed); pair with release(). */
  acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.queueLength) {
      this.onRefused?.();
      return Promise.reject(new TooManyRequests(READBACKS_BUSY, this.retryAfterSeconds));
    }
    // The slot passes straight to the next waiter: `active` does not change.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
