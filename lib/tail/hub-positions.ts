/**
 * Where the tail hub is in each partition: the next offset it will process, per `topic:partition`
 * of every topic it reads. The hub never commits: these positions are what its log source seeks
 * to after every (re)start, and a subscription's snapshot of them (taken between two batches,
 * which are processed synchronously) is the exact seam between a session's history and its live
 * lines — no gap, no duplicate.
 */
import type { SourceTopics } from '../kafka';
import { parseTpKey, Positions, tpKey } from './positions';
import type { RingStore } from './ring';

export class HubPositions {
  /** Next offset to process, per `topic:partition`. */
  readonly next: Positions = new Map();
  private partitionsOf = new Map<string, number[]>();
  private lag = new Map<string, number>();

  /** Where the topics that exist at start are read from: `latest` (their end) or `earliest` (benchmarks). */
  constructor(private initialPosition: 'latest' | 'earliest') {}

  get topics(): string[] {
    return [...this.partitionsOf.keys()];
  }

  partitions(topic: string): number[] | undefined {
    return this.partitionsOf.get(topic);
  }

  /**
   * New topics and partitions get a position, deleted (or no longer wanted) topics lose theirs.
   * First start, and a topic a session asked for (`fromEnd`): from now on, its history is read
   * back from Kafka up to that position. A topic or partition that appears later is new: read
   * from its start, so the first lines of a new space are not lost in the moment before the hub
   * noticed it; rings cover it from there.
   */
  apply(change: SourceTopics, rings: RingStore, fromEnd: (topic: string) => boolean = () => false): void {
    for (const topic of change.removed) this.drop(topic);
    const fresh = (topic: string, partitions: { partition: number; low: string; high: string }[], isNew: boolean) => {
      const known = this.partitionsOf.get(topic) ?? [];
      this.partitionsOf.set(
        topic,
        [...known, ...partitions.map((p) => p.partition)].sort((a, b) => a - b),
      );
      for (const p of partitions) {
        const key = tpKey(topic, p.partition);
        const from = Number(isNew || this.initialPosition === 'earliest' ? p.low : p.high);
        this.next.set(key, from);
        if (isNew) rings.forEach((ring) => ring.coverFrom.set(key, from));
      }
    };
    for (const a of change.added) fresh(a.topic, a.partitions, !change.initial && !fromEnd(a.topic));
    for (const g of change.grown) fresh(g.topic, g.partitions, true);
  }

  /** A deleted topic: a topic re-created under its name is a new one (read from its start). */
  private drop(topic: string): void {
    for (const p of this.partitionsOf.get(topic) ?? []) {
      const key = tpKey(topic, p);
      this.next.delete(key);
      this.lag.delete(key);
    }
    this.partitionsOf.delete(topic);
  }

  /** Every position, for the source to seek after a start. */
  *seeks(): IterableIterator<{ topic: string; partition: number; offset: number }> {
    for (const [key, offset] of this.next) yield { ...parseTpKey(key), offset };
  }

  /** Records a partition's lag after a batch; returns the largest over all partitions. */
  lagged(key: string, lag: number): number {
    this.lag.set(key, lag);
    let max = 0;
    for (const v of this.lag.values()) if (v > max) max = v;
    return max;
  }

  /** Next offsets for every known partition of these topics (now, between two batches). */
  snapshot(topics: string[]): Positions {
    const out: Positions = new Map();
    for (const t of topics) {
      const parts = this.partitionsOf.get(t);
      if (!parts) continue;
      for (const p of parts) {
        const k = tpKey(t, p);
        out.set(k, this.next.get(k) ?? 0);
      }
    }
    return out;
  }
}
