/**
 * One drain's delivery: a bounded queue, batches handed to the drain's transport, retries with
 * exponential backoff and full jitter, and the DLQ for lines that exhaust the drain's retry budget
 * (or overflow its queue while it is down). Each drain has its own sender, so a down drain never
 * holds up another one: nothing here is awaited by the Kafka consumer.
 */
import crypto from 'node:crypto';
import type { LogLine } from '../lib/log/line';
import { newlineSafe, toRfc5424, truncateUtf8 } from '../lib/log/format';
import type { Logger } from '../lib/logger';
import { fullJitterDelay, RetryPolicy } from './backoff';
import type { DrainTarget } from './url';
import type { DrainMetrics } from './metrics';

/** How a delivery ended: acknowledged by the sink, parked in the DLQ, or dropped because its drain was deleted. */
export type Outcome = 'delivered' | 'parked' | 'dropped';

/** Who learns how a line's delivery ended: the offset tracker's record, or the DLQ row being retried. */
export interface Settler {
  settle(outcome: Outcome, item: SendItem): void;
}

export interface SendItem {
  line: LogLine;
  /**
   * The bytes on the wire as a string (encoded once per batch, not per line); `bytes` is its UTF-8
   * length. Emptied once its batch's payload() is built (the Buffer has them then).
   */
  frame: string;
  bytes: number;
  /** Its settle() is called exactly once per item. */
  owner: Settler;
  /** Set for a line resent from the DLQ: parking it again updates that row instead of adding one. */
  dlqId?: string;
}

export interface OutBatch {
  seq: number;
  items: SendItem[];
  bytes: number;
  /** Logplex-Frame-Id: chosen once, so a retried batch is recognisable as the same one. */
  frameId: string;
  attempts: number;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string;
  payload(): Buffer;
}

/** A failed attempt; `permanent` (an HTTP 4xx other than 429) parks the batch without retrying. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    public permanent = false,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/**
 * The drain's address is refused by the destination policy (drains/destination.ts): permanent, so
 * the lines go to the DLQ with the reason instead of being retried against it.
 */
export function refusedDelivery(where: string, reason: string): DeliveryError {
  return new DeliveryError(`${where}: drain destination not allowed: ${reason}`, true);
}

export interface Transport {
  /** Batches that may be outstanding at once (1 keeps a strict order over HTTP; stream sockets pipeline). */
  readonly maxInFlight: number;
  readonly maxBatchBytes: number;
  readonly maxBatchItems: number;
  /** Resolves when the batch is acknowledged (what that means is the transport's: docs/drains.md). */
  send(batch: OutBatch): Promise<void>;
  /**
   * True while the transport would only queue another batch behind one it is still writing: the
   * sender then lets lines pile up into one bigger batch (fewer writes, fewer TLS records) and
   * sends it when `onIdle` fires.
   */
  readonly busy?: boolean;
  onIdle?: () => void;
  close(): void;
}

export interface DrainRef {
  id: string;
  token: string;
}

/** How a line's delivery went before it was parked (the DLQ row's columns). */
export interface ParkInfo {
  attempts: number;
  lastError: string;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
}

/** Where a sender parks what it gave up on (drains/parker.ts: settled once PostgreSQL has it). */
export interface ParkSink {
  park(drain: DrainRef, items: SendItem[], info: ParkInfo): void;
}

/** RFC5424 message caps (docs/design.md §3): UDP datagrams 1024 bytes, TCP/TLS/HTTP messages 100,000 bytes. */
export const UDP_MAX_BYTES = 1024;
export const STREAM_MAX_BYTES = 100_000;

/**
 * What a line becomes on this drain's wire, and its length in bytes. The octet-counted frame is
 * RFC6587 §3.4.1 exactly as lib/log/format's frameOctetCounted builds it, kept as a string so the
 * hot path encodes UTF-8 once per batch instead of twice per line (spec/unit/drain-sender.spec.ts
 * checks both agree).
 */
export function renderFrame(line: LogLine, token: string, target: Pick<DrainTarget, 'transport' | 'framing'>): { frame: string; bytes: number } {
  const msg = toRfc5424(line, { hostname: token });
  let len = Buffer.byteLength(msg, 'utf8');
  if (target.transport === 'udp') {
    const capped = len <= UDP_MAX_BYTES ? msg : truncateUtf8(msg, UDP_MAX_BYTES);
    return { frame: capped, bytes: capped === msg ? len : Buffer.byteLength(capped, 'utf8') };
  }
  let capped = msg;
  if (len > STREAM_MAX_BYTES) {
    capped = truncateUtf8(msg, STREAM_MAX_BYTES);
    len = Buffer.byteLength(capped, 'utf8');
  }
  if ((target.transport === 'tcp' || target.transport === 'tls') && target.framing === 'newline') {
    const frame = `${newlineSafe(capped)}\n`;
    return { frame, bytes: Buffer.byteLength(frame, 'utf8') };
  }
  const prefix = `${len} `;
  return { frame: prefix + capped, bytes: prefix.length + len };
}

export interface SenderOptions {
  retry: RetryPolicy;
  /** Lines a drain may hold (queued + in flight + waiting to retry); beyond it new lines are parked. */
  queueMax: number;
}

export class DrainSender {
  private queue: SendItem[] = [];
  private qHead = 0;
  private inflight = new Set<OutBatch>();
  /** Failed batches waiting for the backoff to end; resent first, in their original order. */
  private failed: OutBatch[] = [];
  private retryReady: OutBatch[] = [];
  private backoffTimer: NodeJS.Timeout | null = null;
  private waitingForInflight = false;
  private consecutiveFailures = 0;
  private seq = 0;
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
    for (let i = this.qHead; i < this.queue.length; i++) items.push(this.queue[i]);
    this.queue = [];
    this.qHead = 0;
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
      const batch = this.retryReady.shift() ?? this.takeBatch();
      if (!batch) return;
      this.dispatch(batch);
    }
  }

  private takeBatch(): OutBatch | null {
    if (this.qHead >= this.queue.length) return null;
    const items: SendItem[] = [];
    let bytes = 0;
    while (this.qHead < this.queue.length && items.length < this.transport.maxBatchItems) {
      const next = this.queue[this.qHead];
      if (items.length > 0 && bytes + next.bytes > this.transport.maxBatchBytes) break;
      items.push(next);
      bytes += next.bytes;
      this.qHead++;
    }
    if (this.qHead === this.queue.length) {
      this.queue = [];
      this.qHead = 0;
    } else if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
    let cached: Buffer | null = null;
    return {
      seq: this.seq++,
      items,
      bytes,
      frameId: crypto.randomUUID(),
      attempts: 0,
      firstAttemptAt: null,
      lastAttemptAt: null,
      lastError: '',
      payload: () => {
        if (cached === null) {
          cached = Buffer.from(items.length === 1 ? items[0].frame : items.map((i) => i.frame).join(''), 'utf8');
          // The bytes are in the Buffer (off the JS heap) now: a batch waiting out its acknowledgement
          // (ackGraceMs) or a retry does not also keep every frame string alive into the old generation.
          for (const i of items) i.frame = '';
        }
        return cached;
      },
    };
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
