/**
 * The log source's poison partitions. A partition whose batches failed the user's handler
 * `poisonAfter` times in a row (not for an outage), or whose next record batch cannot be decoded,
 * is quarantined: paused, with nothing resolved or committed past it, logged, reported and
 * counted, and tried again after `quarantineMs`. The other partitions keep flowing.
 */
import { Unavailable } from '../../errors';
import type { Logger } from '../../logger';
import type { RunningConsumer, Undecodable } from '../types';
import type { LogSourceOptions } from './options';

interface Quarantine {
  topic: string;
  partition: number;
  until: number;
  error: string;
}

type Partitions = Pick<RunningConsumer, 'pause' | 'resume'>;

export class Quarantines {
  /** Failed batches in a row, per `topic:partition` (cleared by a handled batch). */
  private failures = new Map<string, number>();
  private held = new Map<string, Quarantine>();
  /** Quarantines lifted whose partition has not had a batch through since. */
  private lifted = new Set<string>();

  constructor(
    private opts: LogSourceOptions,
    private log: Logger,
    /** The running consumer, if any: a quarantine pauses its partition there. */
    private consumer: () => Partitions | undefined,
    private now: () => number = Date.now,
  ) {}

  /** Partitions held now, as `topic:partition`. */
  get keys(): string[] {
    return [...this.held.keys()];
  }

  private get quarantineMs(): number {
    return this.opts.quarantineMs ?? 300_000;
  }

  /** The user handled a batch of this partition: its failure streak (and a lifted quarantine) ends. */
  handled(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    if (this.failures.size) this.failures.delete(key);
    if (this.lifted.size && this.lifted.delete(key)) this.opts.quarantines?.quarantineLifted(this.opts.name, topic, partition);
  }

  /**
   * A batch the user's handler failed on. An outage (Unavailable: PostgreSQL down) is nobody's
   * poison: kafkajs retries it. Otherwise, at the poisonAfter-th failure in a row the partition is
   * quarantined and true returned: the batch is dropped unresolved (its offsets are neither
   * committed nor skipped: the partition resumes there when the quarantine is lifted).
   */
  failed(topic: string, partition: number, err: unknown): boolean {
    if (err instanceof Unavailable) return false;
    const key = `${topic}:${partition}`;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    if (n < (this.opts.poisonAfter ?? 3)) return false;
    const error = (err as Error)?.message ?? String(err);
    this.hold(topic, partition, error);
    this.log.error(
      { topic, partition, err: error, failures: n, retryInMs: this.quarantineMs },
      'Kafka partition quarantined: every batch of it failed; the other partitions go on',
    );
    return true;
  }

  /** The partition's next record batch cannot be decoded: held at once (every fetch of it would end there again). */
  undecodable(topic: string, partition: number, bad: Undecodable): void {
    this.hold(topic, partition, `record batch at offset ${bad.firstOffset} cannot be decoded: ${bad.reason}`);
    this.log.error(
      { topic, partition, offset: bad.firstOffset, lastOffset: bad.lastOffset, err: bad.reason, retryInMs: this.quarantineMs },
      'Kafka partition quarantined: a record batch of it cannot be decoded; the other partitions go on',
    );
  }

  /** Holds a partition: paused, reported and counted (the caller logs why). */
  private hold(topic: string, partition: number, error: string): void {
    const key = `${topic}:${partition}`;
    this.failures.delete(key);
    const until = this.now() + this.quarantineMs;
    this.held.set(key, { topic, partition, until, error });
    this.lifted.delete(key);
    this.opts.quarantines?.partitionQuarantined(this.opts.name, topic, partition, error, until);
    this.consumer()?.pause([{ topic, partitions: [partition] }]);
    this.opts.metrics?.quarantined.set({ consumer: this.opts.name, topic, partition: String(partition) }, 1);
  }

  /** Quarantines past their time are tried again (resumed where they stopped). */
  liftDue(): void {
    const now = this.now();
    for (const [key, q] of this.held) {
      if (q.until > now) continue;
      this.release(key, q);
      this.consumer()?.resume([{ topic: q.topic, partitions: [q.partition] }]);
      this.lifted.add(key);
      this.opts.quarantines?.partitionRetrying(this.opts.name, q.topic, q.partition);
      this.log.info({ topic: q.topic, partition: q.partition }, 'quarantined Kafka partition tried again');
    }
  }

  /** Deleted topics: their quarantines end with them. */
  dropTopics(removed: string[]): void {
    if (removed.length) this.opts.quarantines?.quarantinesDropped(this.opts.name, removed);
    for (const [key, q] of this.held) if (removed.includes(q.topic)) this.release(key, q);
  }

  /** Pauses the held partitions of `topics` on a newly started consumer. */
  pauseHeld(consumer: Partitions, topics: string[]): void {
    for (const q of this.held.values()) if (topics.includes(q.topic)) consumer.pause([{ topic: q.topic, partitions: [q.partition] }]);
  }

  private release(key: string, q: Quarantine): void {
    this.held.delete(key);
    this.opts.metrics?.quarantined.remove({ consumer: this.opts.name, topic: q.topic, partition: String(q.partition) });
  }
}
