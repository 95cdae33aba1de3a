import { performance } from 'node:perf_hooks';

/** A stream with queued writes (a TailSession). */
export interface Flushable {
  flush(): void;
}

/**
 * Coalesces writes: sessions with queued lines are flushed together, at most once per
 * `intervalMs` (0: once per event-loop turn). A flush after a quiet spell runs on the next turn,
 * so a lone line is not held; under a steady stream the flushes are `intervalMs` apart. One
 * flush = one write per session, however many lines arrived since the last one: with a thousand
 * streams the socket writes, not the lines, are what the node spends its time on.
 */
export class FlushScheduler {
  private dirty = new Set<Flushable>();
  private pending = false;
  private last = -Infinity;

  constructor(
    private readonly intervalMs = 0,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(session: Flushable): void {
    this.dirty.add(session);
    if (this.pending) return;
    this.pending = true;
    const wait = this.last + this.intervalMs - this.now();
    if (wait >= 1) setTimeout(this.run, wait);
    else setImmediate(this.run);
  }

  private run = (): void => {
    this.pending = false;
    this.last = this.now();
    const sessions = this.dirty;
    this.dirty = new Set();
    for (const s of sessions) s.flush();
  };
}
