/**
 * One drain's delivery: a bounded queue, batches handed to the drain's transport, retries with
 * exponential backoff and full jitter, and the DLQ for lines that exhaust the drain's retry budget
 * (or overflow its queue while it is down). Each drain has its own sender, so a down drain never
 * holds up another one: nothing here is awaited by the Kafka consumer.
 */
import type { LogLine } from '../lib/log/line';
import type { Logger } from '../lib/logger';
import { fullJitterDelay, RetryPolicy } from './backoff';
import { DeliveryError, type DrainRef, type OutBatch, type ParkSink, type SendItem, type Settler, type Transport } from './delivery';
import { renderFrame } from './frame';
import type { DrainMetrics } from './metrics';
import { SendQueue } from './send-queue';
import type { DrainTarget } from './url';

export {
  DeliveryError,
  refusedDelivery,
  type DrainRef,
  type OutBatch,
  type Outcome,
  type ParkInfo,
  type ParkSink,
  type SendItem,
  type Settler,
  type Transport,
} from './delivery';
export { renderFrame, STREAM_MAX_BYTES, UDP_MAX_BYTES } from './frame';

export interface SenderOptions {
  retry: RetryPolicy;
  /** Lines a drain may hold (queued + in flight + waiting to retry); beyond it new lines are parked. */
  queueMax: number;
}

export class DrainSender {
  private queue = new SendQueue();
  private inflight = new Set<OutBatch>();
  /** Failed batches waiting for the backoff to end; resent first, in their original order. */
  private failed: OutBatch[] = [];
  private retryReady: OutBatch[] = [];
  private backoffTimer: NodeJS.Timeout | null = null;
  private waitingForInflight = false;
  private consecutiveFailures = 0;
  private pumpScheduled = false;
  private closed = false;
  private removed = false;
  private size = 0;
  private labels: { drain: string; app: string };
  lastError = '';
  lastSuccessAt: Date | null = null;

  constructor(
    readonly drain: DrainRef,
    readonly target: DrainTarget,
    private transport: Transport,
    private parker: ParkSink,
    private metrics: DrainMetrics,
    private opts: SenderOptions,
    private log: Logger,
  ) {
    this.labels = { drain: drain.id, app: drain.token };
    transport.onIdle = () => this.schedulePump();
  }

  /** Lines this drain holds (queued, in flight, waiting for a retry). */
  get depth(): number {
    return this.size;
  }

  hasRoom(n = 1): boolean {
    return this.size + n <= this.opts.queueMax;
  }

  /**
   * Set when the consumer waited for room and the drain did not make any in time: until its queue
   * is half empty again, new lines are parked at once instead of making the consumer wait again.
   */
  overflowing = false;
  private roomWaiters: (() => void)[] = [];

  /** Full, but answering: worth a short wait for room (a burst) rather than parking at once. */
  get healthy(): boolean {
    return !this.closed && !this.overflowing && this.consecutiveFailures === 0 && this.backoffTimer === null && !this.waitingForInflight;
  }

  /** Resolves true once the queue has room, false after `ms` (or if the drain starts failing meanwhile). */
  waitForRoom(ms: number): Promise<boolean> {
    if (this.hasRoom()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.roomWaiters = this.roomWaiters.filter((w) => w !== wake);
        resolve(ok);
      };
      const wake = () => {
        if (this.hasRoom()) done(true);
        else if (!this.healthy) done(false);
      };
      const timer = setTimeout(() => done(false), ms);
      this.roomWaiters.push(wake);
    });
  }

  private wakeWaiters(): void {
    if (this.overflowing && this.size <= this.opts.queueMax / 2) this.overflowing = false;
    if (this.roomWaiters.length) [...this.roomWaiters].forEach((w) => w());
  }

  /**
   * Queues a line. A full queue (the drain is down or slower than the stream) parks the line in the
   * DLQ at once: the consumer never waits for a drain, and the line is not lost.
   */
  offer(line: LogLine, owner: Settler, dlqId?: string): void {
    const { frame, bytes } = renderFrame(line, this.drain.token, this.target);
    const item: SendItem = { line, frame, bytes, owner, dlqId };
    if (this.closed) {
      // A drain deleted while the worker waited for room: settle at once, or its Kafka offset would never
      // commit. A sender closed for shutdown leaves the line unsettled, so Kafka redelivers it.
      if (this.removed) owner.settle('dropped', item);
      return;
    }
    if (this.size >= this.opts.queueMax) {
      const now = new Date();
      this.parker.park(this.drain, [item], {
        attempts: 0,
        lastError: `queue full (${this.opts.queueMax} lines): drain down or too slow${this.lastError ? `; last error: ${this.lastError}` : ''}`,
        firstAttemptAt: null,
        lastAttemptAt: now,
      });
      return;
    }
    this.queue.push(item);
    this.size++;
    this.schedulePump();
  }

  /** The drain was deleted: everything it holds is dropped (its DLQ rows go with it). */
  remove(): void {
    this.removed = true;
    const items = this.close();
    for (const i of items) i.owner.settle('dropped', i);
  }

  /** Stops delivering; returns the unsettled lines (not settled, so their offsets stay uncommitted). */
  close(): SendItem[] {
    if (this.closed) return [];
    this.closed = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.transport.close();
    const items: SendItem[] = [];
    for (const b of [...this.failed, ...this.retryReady, ...this.inflight]) items.push(...b.items);
    for (const item of this.queue.takeAll()) items.push(item);
    this.failed = [];
    this.retryReady = [];
    this.inflight.clear();
    this.size = 0;
    return items;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Lines offered in the same tick (one Kafka batch) go out together.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed || this.backoffTimer || this.waitingForInflight) return;
    while (this.inflight.size < this.transport.maxInFlight && !this.transport.busy) {
      const batch = this.retryReady.shift() ?? this.queue.takeBatch(this.transport.maxBatchItems, this.transport.maxBatchBytes);
      if (!batch) return;
      this.dispatch(batch);
    }
  }

  private dispatch(batch: OutBatch): void {
    batch.attempts++;
    const now = new Date();
    batch.firstAttemptAt ??= now;
    batch.lastAttemptAt = now;
    this.inflight.add(batch);
    let sent: Promise<void>;
    try {
      sent = this.transport.send(batch);
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
      () => this.onAck(batch),
      (e: unknown) => this.onFail(batch, e),
    );
  }

  private onAck(batch: OutBatch): void {
    if (this.closed || !this.inflight.delete(batch)) return;
    const n = batch.items.length;
    this.size -= n;
    this.consecutiveFailures = 0;
    this.lastSuccessAt = new Date();
    this.metrics.delivered.inc(this.labels, n);
    this.metrics.lastSuccess.set(this.labels, this.lastSuccessAt.getTime() / 1000);
    for (const item of batch.items) item.owner.settle('delivered', item);
    this.afterSettle();
  }

  private onFail(batch: OutBatch, e: unknown): void {
    if (this.closed || !this.inflight.delete(batch)) return;
    const n = batch.items.length;
    const message = (e as Error)?.message ?? String(e);
    batch.lastError = message;
    this.lastError = message;
    this.metrics.failed.inc(this.labels, n);
    const permanent = e instanceof DeliveryError && e.permanent;
    if (permanent || batch.attempts >= this.opts.retry.attempts) {
      this.size -= n;
      this.log.warn(
        { drain: this.drain.id, app: this.drain.token, lines: n, attempts: batch.attempts, error: message, permanent },
        'drain lines parked in the DLQ',
      );
      this.parker.park(this.drain, batch.items, {
        attempts: batch.attempts,
        lastError: message,
        firstAttemptAt: batch.firstAttemptAt,
        lastAttemptAt: batch.lastAttemptAt,
      });
      // The sink answered and refused this content: the next batch can go at once.
      if (permanent) {
        this.afterSettle();
        return;
      }
    } else {
      this.metrics.retried.inc(this.labels, n);
      this.failed.push(batch);
    }
    if (!this.backoffTimer && !this.waitingForInflight) {
      // One backoff step per outage episode, not per batch that was in flight when the connection died.
      this.consecutiveFailures++;
      const delay = fullJitterDelay(this.consecutiveFailures, this.opts.retry);
      this.log.debug({ drain: this.drain.id, delay, error: message }, 'drain backing off');
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = null;
        this.waitingForInflight = true;
        this.afterSettle();
      }, delay);
    }
    this.afterSettle();
  }

  /** After the backoff, resend failed batches first (once nothing is in flight, so the order holds). */
  private afterSettle(): void {
    this.wakeWaiters();
    if (this.closed || this.backoffTimer) return;
    if (this.waitingForInflight) {
      if (this.inflight.size > 0) return;
      this.waitingForInflight = false;
      this.retryReady = [...this.failed, ...this.retryReady].sort((a, b) => a.seq - b.seq);
      this.failed = [];
    }
    this.schedulePump();
  }
}
