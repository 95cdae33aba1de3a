/**
 * Writes parked lines to the DLQ in batches and settles them only once PostgreSQL has them. If
 * PostgreSQL is down the lines wait here (retried with backoff) and stay unsettled, so their
 * Kafka offsets are not committed: a crash then redelivers them instead of losing them.
 */
import { isRowRefusal } from '../lib/db';
import type { Logger } from '../lib/logger';
import { cappedExponential } from './backoff';
import { DlqStore, ParkEntry } from './dlq';
import type { DrainMetrics } from './metrics';
import type { DrainRef, ParkInfo, ParkSink, SendItem } from './sender';

export type { ParkInfo } from './sender';

interface Pending {
  drain: DrainRef;
  item: SendItem;
  info: ParkInfo;
}

export class Parker implements ParkSink {
  private pending: Pending[] = [];
  private removals: string[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private againCount = 0;

  constructor(
    private dlq: DlqStore,
    private metrics: DrainMetrics,
    private log: Logger,
    private opts: { flushMs: number; batchSize: number } = { flushMs: 20, batchSize: 1000 },
  ) {}

  /** Lines waiting to be written to the DLQ. */
  get backlog(): number {
    return this.pending.length + this.removals.length;
  }

  park(drain: DrainRef, items: SendItem[], info: ParkInfo): void {
    for (const item of items) {
      this.pending.push({ drain, item, info });
      if (item.dlqId) this.againCount++;
    }
    this.schedule(this.opts.flushMs);
  }

  /** A line resent from the DLQ was delivered: its row goes. */
  removeDelivered(dlqId: string): void {
    this.removals.push(dlqId);
    this.schedule(this.opts.flushMs);
  }

  /** Resolves when nothing waits to be written (or after timeoutMs). */
  idle(timeoutMs: number): Promise<void> {
    if (this.backlog === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Lines PostgreSQL refused even alone: counted, logged once each with their drain and Kafka
   * position, and settled as dropped so their partition commits past them. Returns the rest.
   */
  private quarantine(chunk: Pending[], refused: { p: Pending; err: Error & { code?: string } }[]): Pending[] {
    const bad = new Set(refused.map((r) => r.p));
    for (const { p, err } of refused) {
      this.metrics.dlqQuarantined.inc({ drain: p.drain.id, app: p.drain.token });
      const { topic, partition, offset } = p.item.line.position;
      this.log.warn(
        { drain: p.drain.id, app: p.drain.token, dlqId: p.item.dlqId, topic, partition, offset, code: err.code, err: err.message },
        'PostgreSQL refused a dead-letter line; skipped (quarantined)',
      );
      p.item.owner.settle('dropped', p.item);
    }
    return chunk.filter((p) => !bad.has(p));
  }

  private schedule(ms: number): void {
    if (this.timer || this.flushing || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.backlog > 0 && !this.stopped) {
        if (this.removals.length) {
          const ids = this.removals.slice(0, this.opts.batchSize);
          await this.dlq.remove(ids);
          this.removals.splice(0, ids.length);
          continue;
        }
        // Lines resent from the DLQ that failed again update their row, one at a time (rare);
        // fresh lines go in one INSERT per chunk.
        const againIdx = this.againCount > 0 ? this.pending.findIndex((p) => p.item.dlqId) : -1;
        let chunk: Pending[];
        let refused: { p: Pending; err: Error & { code?: string } }[] = [];
        if (againIdx >= 0) {
          const p = this.pending[againIdx];
          try {
            await this.dlq.repark(p.item.dlqId as string, p.info.attempts, p.info.lastError, p.info.firstAttemptAt, p.info.lastAttemptAt);
          } catch (e) {
            // Refused for the row's sake: the row stays in the DLQ as it was (a stale claim, retried later).
            if (!isRowRefusal(e)) throw e;
            refused = [{ p, err: e as Error }];
          }
          chunk = this.pending.splice(againIdx, 1);
          this.againCount--;
        } else {
          chunk = this.pending.slice(0, this.opts.batchSize);
          const byEntry = new Map<ParkEntry, Pending>();
          const entries = chunk.map((p) => {
            const entry: ParkEntry = {
              drainId: p.drain.id,
              appKey: p.drain.token,
              line: p.item.line,
              attempts: p.info.attempts,
              lastError: p.info.lastError,
              firstAttemptAt: p.info.firstAttemptAt,
              lastAttemptAt: p.info.lastAttemptAt,
            };
            byEntry.set(entry, p);
            return entry;
          });
          const result = await this.dlq.park(entries);
          this.pending.splice(0, chunk.length);
          for (const d of result.dropped) this.metrics.dlqDropped.inc({ drain: d.drain, app: d.app }, d.count);
          refused = result.quarantined.map((q) => ({ p: byEntry.get(q.row) as Pending, err: q.err }));
        }
        if (refused.length) chunk = this.quarantine(chunk, refused);
        this.failures = 0;
        const counts = new Map<string, { drain: DrainRef; n: number }>();
        for (const p of chunk) {
          const c = counts.get(p.drain.id) ?? { drain: p.drain, n: 0 };
          c.n++;
          counts.set(p.drain.id, c);
        }
        for (const c of counts.values()) this.metrics.parked.inc({ drain: c.drain.id, app: c.drain.token }, c.n);
        for (const p of chunk) p.item.owner.settle('parked', p.item);
      }
    } catch (e) {
      this.failures++;
      const delay = cappedExponential(this.failures, 100, 5000);
      this.log.error({ err: (e as Error).message, backlog: this.backlog, retryInMs: delay }, 'DLQ write failed; lines held until PostgreSQL answers');
      this.flushing = false;
      this.schedule(delay);
      return;
    }
    this.flushing = false;
    if (this.backlog > 0) this.schedule(this.opts.flushMs);
    else {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}
