import crypto from 'node:crypto';
import type { OutBatch, SendItem } from './delivery';

/**
 * A drain's lines waiting for their first attempt, in order, cut into batches within a transport's
 * limits. An array read from a moving head (a shift per line would copy the array), compacted once
 * the consumed part is large and more than half of it.
 */
export class SendQueue {
  private items: SendItem[] = [];
  private head = 0;
  private seq = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: SendItem): void {
    this.items.push(item);
  }

  /** Empties the queue, returning what it held. */
  takeAll(): SendItem[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  /** The next batch: at most maxItems lines, and within maxBytes unless a single line is larger. Null when empty. */
  takeBatch(maxItems: number, maxBytes: number): OutBatch | null {
    if (this.head >= this.items.length) return null;
    const items: SendItem[] = [];
    let bytes = 0;
    while (this.head < this.items.length && items.length < maxItems) {
      const next = this.items[this.head];
      if (items.length > 0 && bytes + next.bytes > maxBytes) break;
      items.push(next);
      bytes += next.bytes;
      this.head++;
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
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
}
