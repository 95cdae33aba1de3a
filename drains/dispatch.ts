/**
 * Dispatch of the drain worker: each Kafka line (parsed once by the source's LogLineReader)
 * offered to every drain of its app and of its site, with backpressure (a burst waits a bounded
 * time for room; a PostgreSQL-down DLQ backlog holds the consumer), and the commits: an offset is
 * committed only once every drain of every earlier line acknowledged it or parked it in the DLQ
 * (OffsetTracker, docs/design.md §3 "Guarantees").
 */
import type { Logger } from '../lib/logger';
import type { LogLine } from '../lib/log/line';
import { isTopicGone, type Batch, type LogLineReader } from '../lib/kafka';
import type { DrainMetrics } from './metrics';
import { OffsetTracker } from './offsets';
import type { Parker } from './parker';
import type { DrainRegistry } from './registry';

export interface DispatchOptions {
  /**
   * When a healthy drain's queue is full (a burst), the consumer waits up to this long for room
   * before parking the overflow; this bounds how long one drain can delay the others.
   */
  overflowWaitMs: number;
  /** Lines waiting for the DLQ write beyond which the consumer waits (PostgreSQL down and a drain down). */
  parkBacklogMax: number;
}

/** Where commits go: the source's running consumer (false when none runs), and a re-list when a topic is gone. */
export interface CommitTarget {
  commit(points: { topic: string; partition: number; offset: string }[]): Promise<boolean>;
  refreshSoon(): void;
}

export class Dispatcher {
  readonly tracker = new OffsetTracker();
  private committing = false;

  constructor(
    private registry: DrainRegistry,
    private reader: LogLineReader,
    private parker: Parker,
    private metrics: DrainMetrics,
    private target: CommitTarget,
    private opts: DispatchOptions,
    private log: Logger,
  ) {}

  /** A deleted topic: nothing of it can be committed any more, and a topic re-created under its name starts afresh. */
  forgetTopic(topic: string): void {
    this.tracker.forgetTopic(topic);
  }

  async onBatch(batch: Batch): Promise<void> {
    if (this.parker.backlog > this.opts.parkBacklogMax) {
      // PostgreSQL is not taking parked lines: wait rather than hold an unbounded backlog in memory.
      while (this.parker.backlog > this.opts.parkBacklogMax / 2 && batch.isCurrent()) {
        await sleep(200);
        await batch.heartbeat().catch(() => undefined);
      }
    }
    let last: string | null = null;
    let overflowDeadline: number | undefined;
    this.metrics.lines.inc(batch.records.length);
    const track = this.tracker.partition(batch.topic, batch.partition);
    for (let i = 0; i < batch.records.length; i++) {
      const rec = batch.records[i];
      // kafkajs's checks build strings per call: look every 256 records, not every record.
      if ((i & 255) === 0 && !batch.isCurrent()) break;
      last = rec.offset;
      // Kafka re-fetches from the last commit after a resubscribe: what this process dispatched is skipped.
      if (track.seen(rec.offset)) continue;
      const parsed = this.reader.read(rec);
      if (!parsed) {
        track.add(rec.offset, 0);
        continue;
      }
      const appDrains = this.registry.byToken(parsed.line.appKey);
      const siteDrains = parsed.siteLine ? this.registry.byToken(parsed.siteLine.appKey) : undefined;
      const targets = (appDrains?.length ?? 0) + (siteDrains?.length ?? 0);
      const record = track.add(rec.offset, targets);
      if (targets === 0) continue;
      for (let k = 0; k < 2; k++) {
        const drains = k === 0 ? appDrains : siteDrains;
        if (!drains) continue;
        const l = (k === 0 ? parsed.line : parsed.siteLine) as LogLine;
        for (const d of drains) {
          if (!d.sender.hasRoom() && d.sender.healthy) {
            // A burst, not an outage: wait a bounded time for room (the deadline is per Kafka batch).
            overflowDeadline ??= Date.now() + this.opts.overflowWaitMs;
            const ok = await d.sender.waitForRoom(Math.max(0, overflowDeadline - Date.now()));
            if (!ok && d.sender.healthy) {
              d.sender.overflowing = true;
              this.log.warn({ drain: d.drain.id, app: d.drain.token }, 'drain too slow for the stream; parking its overflow in the DLQ');
            }
          }
          d.sender.offer(l, record);
        }
      }
    }
    if (last !== null) {
      // Moves kafkajs's fetch position on; what is committed is the tracker's business (autoCommit off).
      batch.resolveOffset(last);
      const lag = Number(batch.highWatermark) - Number(last) - 1;
      this.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag));
    }
    await batch.heartbeat().catch(() => undefined);
  }

  /** Commits what every drain settled since the last commit; `force` waits for a commit in progress. */
  async commit(force = false): Promise<void> {
    if (this.committing) {
      if (!force) return;
      while (this.committing) await sleep(10);
    }
    const points = this.tracker.committable();
    if (points.length === 0) return;
    this.committing = true;
    try {
      if (await this.target.commit(points)) this.tracker.markCommitted(points);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'drain offset commit failed; will retry');
      // A topic deleted since the last look fails the whole commit: re-list (and forget it) now.
      if (isTopicGone(e)) this.target.refreshSoon();
    } finally {
      this.committing = false;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
