/**
 * The DLQ pump of a drain worker: claims the dead-letter lines an operator asked to retry and
 * offers them to their drain's sender (the normal path); delivered, the row goes; parked again,
 * the parker updated the row. Claims not settled when the worker stops are given back.
 */
import type { Logger } from '../lib/logger';
import { DlqStore, lineFromStored } from './dlq';
import type { Parker } from './parker';
import type { DrainRegistry } from './registry';
import type { Outcome, SendItem, Settler } from './sender';

export class DlqPump {
  private pumping = false;
  private again = false;
  private stopped = true;
  /** DLQ rows this worker claimed and has not settled yet. */
  private claimed = new Set<string>();
  private settler: Settler = {
    settle: (o: Outcome, item: SendItem) => {
      const id = item.dlqId as string;
      this.claimed.delete(id);
      if (o === 'delivered') this.parker.removeDelivered(id);
    },
  };

  constructor(
    private dlq: DlqStore,
    private registry: DrainRegistry,
    private parker: Parker,
    /** When the worker reads only some topics: those (lines read elsewhere are not this worker's). */
    private scopedTopics: () => string[] | undefined,
    private log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
  }

  /** No further claims (the worker is stopping). */
  halt(): void {
    this.stopped = true;
  }

  /** Gives back the claimed lines not settled yet (after the senders closed). */
  async release(): Promise<void> {
    if (this.claimed.size) await this.dlq.unclaim([...this.claimed]).catch(() => undefined);
    this.claimed.clear();
  }

  async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        // Only lines this worker serves: its live drains and, when it is scoped to some topics,
        // lines read from those. Several independent workers can share one PostgreSQL (tests,
        // benchmarks, a staging worker on a subset of topics) and all hear the same NOTIFY; one
        // that claimed another's line would send it with its own TLS trust and retry budget.
        const rows = await this.dlq.claim(500, { drains: this.registry.ids(), topics: this.scopedTopics() });
        if (rows.length === 0) break;
        const giveBack: string[] = [];
        for (const row of rows) {
          const live = this.registry.get(row.drainId);
          if (!live || !live.sender.hasRoom() || this.stopped) {
            giveBack.push(row.id);
            continue;
          }
          this.claimed.add(row.id);
          live.sender.offer(lineFromStored(row.line), this.settler, row.id);
        }
        if (giveBack.length) {
          await this.dlq.unclaim(giveBack);
          // Drains are full or unknown here: try again on the next poll rather than spin.
          break;
        }
      } while (!this.stopped);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'DLQ retry pump failed; will retry');
    } finally {
      this.pumping = false;
    }
    if (this.again && !this.stopped) void this.pump();
  }
}
