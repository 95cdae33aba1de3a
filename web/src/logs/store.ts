import type { Line } from './line';

/**
 * The lines a view holds: a ring of at most `capacity` (the oldest go first), addressed by a
 * sequence number that only grows, so a paused view keeps pointing at the same lines.
 */
export class LineStore {
  private ring: (Line | undefined)[];
  /** Sequence number of the oldest line held. */
  first = 0;
  /** Sequence number the next line gets. */
  next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  push(line: Line): void {
    this.ring[this.next % this.capacity] = line;
    this.next++;
    if (this.next - this.first > this.capacity) this.first = this.next - this.capacity;
  }

  get(seq: number): Line | undefined {
    return seq >= this.first && seq < this.next ? this.ring[seq % this.capacity] : undefined;
  }

  get size(): number {
    return this.next - this.first;
  }

  clear(): void {
    this.ring = new Array(this.capacity);
    this.first = this.next = 0;
  }

  *range(from = this.first, to = this.next): Generator<Line> {
    for (let s = Math.max(from, this.first); s < Math.min(to, this.next); s++) yield this.ring[s % this.capacity] as Line;
  }
}
