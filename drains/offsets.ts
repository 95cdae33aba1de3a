/**
 * Commit tracking for at-least-once delivery (docs/design.md §3 "Guarantees"): a Kafka offset may be
 * committed only when every line before it was acknowledged by every drain or parked in the DLQ.
 * Per partition, the lines dispatched and not yet settled, oldest first; the committable offset is
 * the first unsettled one (or one past the last settled).
 */

/** One record: how many drains still have to settle it. It is the Settler its deliveries call (no closure per line). */
class Entry {
  constructor(
    readonly offset: number,
    readonly offsetText: string,
    public pending: number,
  ) {}
  settle(): void {
    this.pending--;
  }
}

class PartitionTrack {
  private entries: Entry[] = [];
  private head = 0;
  /** One past the highest offset dispatched: records below it that Kafka hands us again (after a resubscribe) are skipped. */
  nextDispatch = -1;
  /** The offset to commit (next to read), once something settled. */
  private settledThrough: string | null = null;
  lastCommitted: string | null = null;

  add(offset: number, offsetText: string, pending: number): Entry {
    const e = new Entry(offset, offsetText, pending);
    if (pending > 0) this.entries.push(e);
    else if (this.head === this.entries.length) this.settledThrough = String(offset + 1);
    else this.entries.push(e);
    this.nextDispatch = offset + 1;
    return e;
  }

  /** Drops settled entries at the head; returns the offset to commit, or null if nothing new. */
  committable(): string | null {
    while (this.head < this.entries.length && this.entries[this.head].pending <= 0) {
      this.settledThrough = String(this.entries[this.head].offset + 1);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    const next = this.head < this.entries.length ? this.entries[this.head].offsetText : this.settledThrough;
    return next !== null && next !== this.lastCommitted ? next : null;
  }

  get unsettled(): number {
    let n = 0;
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i].pending > 0) n++;
    return n;
  }
}

export interface CommitPoint {
  topic: string;
  partition: number;
  offset: string;
}

export interface PartitionHandle {
  seen(offset: string): boolean;
  /** Registers a record with `deliveries` outstanding; each delivery calls settle() once. */
  add(offset: string, deliveries: number): { settle(): void };
}

export class OffsetTracker {
  private parts = new Map<string, { topic: string; partition: number; track: PartitionTrack }>();

  private track(topic: string, partition: number): PartitionTrack {
    const key = `${topic}\u0000${partition}`;
    let p = this.parts.get(key);
    if (!p) {
      p = { topic, partition, track: new PartitionTrack() };
      this.parts.set(key, p);
    }
    return p.track;
  }

  /** One partition's handle, so a Kafka batch looks its partition up once rather than per record. */
  partition(topic: string, partition: number): PartitionHandle {
    const track = this.track(topic, partition);
    return {
      seen: (offset) => Number(offset) < track.nextDispatch,
      add: (offset, deliveries) => track.add(Number(offset), offset, deliveries),
    };
  }

  /** True when this record was already dispatched by this process (Kafka re-fetches from the last commit after a resubscribe). */
  seen(topic: string, partition: number, offset: string): boolean {
    return Number(offset) < this.track(topic, partition).nextDispatch;
  }

  /**
   * Registers a record with `deliveries` outstanding deliveries; each delivery calls settle() on the
   * result once when it settles (delivered, parked, or its drain deleted).
   */
  add(topic: string, partition: number, offset: string, deliveries: number): { settle(): void } {
    return this.track(topic, partition).add(Number(offset), offset, deliveries);
  }

  /** The offsets that moved since the last commit. */
  committable(): CommitPoint[] {
    const out: CommitPoint[] = [];
    for (const p of this.parts.values()) {
      const offset = p.track.committable();
      if (offset !== null) out.push({ topic: p.topic, partition: p.partition, offset });
    }
    return out;
  }

  /** Forgets a deleted topic: nothing of it is committed any more, and a topic re-created under its name starts afresh. */
  forgetTopic(topic: string): void {
    for (const [key, p] of this.parts) if (p.topic === topic) this.parts.delete(key);
  }

  markCommitted(points: CommitPoint[]): void {
    for (const c of points) this.track(c.topic, c.partition).lastCommitted = c.offset;
  }

  /** Lines dispatched and not yet settled (all partitions). */
  unsettled(): number {
    let n = 0;
    for (const p of this.parts.values()) n += p.track.unsettled;
    return n;
  }
}
