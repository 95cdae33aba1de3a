/**
 * What all the log streams of one node may hold together: how many are open (MAX_STREAMS) and how
 * many bytes they queue for clients that are behind (STREAMS_BUFFER_BYTES). Each stream keeps its
 * own budget too (SESSION_BUFFER_BYTES); this one stops many streams, each within its own budget,
 * from adding up to more memory than the node has.
 */
import { NodeBusy } from '../errors';

export const NODE_BUSY_RETRY_AFTER_SECONDS = 5;

export class StreamLimits {
  private open = 0;
  private queued = 0;

  constructor(
    readonly maxStreams: number,
    readonly maxQueuedBytes: number,
  ) {}

  get openStreams(): number {
    return this.open;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  /** A slot for one more stream, or the 503 a client is told to retry after (another node may serve it). */
  admit(): void {
    if (this.open >= this.maxStreams) {
      throw new NodeBusy(`This node has too many log streams open (${this.maxStreams}); retry later.`, NODE_BUSY_RETRY_AFTER_SECONDS);
    }
    if (this.queued >= this.maxQueuedBytes) {
      throw new NodeBusy('This node holds too much for slow log streams; retry later.', NODE_BUSY_RETRY_AFTER_SECONDS);
    }
    this.open++;
  }

  release(): void {
    this.open = Math.max(0, this.open - 1);
  }

  /** Whether `bytes` more may be queued for a client that is behind. */
  fits(bytes: number): boolean {
    return this.queued + bytes <= this.maxQueuedBytes;
  }

  /** A stream's queued bytes changed by `delta` (negative when written out or dropped). */
  adjust(delta: number): void {
    this.queued = Math.max(0, this.queued + delta);
  }
}
