/**
 * What a drain's delivery is made of, shared by the sender, the transports, the DLQ parker and
 * pump: the items and batches handed to a transport, how a delivery ends, and where lines that
 * exhaust their retries are parked.
 */
import type { LogLine } from '../lib/log/line';

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
