/**
 * The Kafka log source: the one consumer loop of logway (Vector's "source", logplex's channel
 * feed). The tail hub, the drain worker and the build consumer each run one, with their own
 * settings (group, start position, commit policy), and receive batches; the source does the rest:
 *
 * - topic discovery (lib/kafka/topics.ts): new topics, new partitions of known topics and deleted topics
 *   each restart the consumer over the topics that exist now (kafkajs resolves a subscription
 *   once, so a new topic or partition is read only by a new subscription);
 * - subscription and seek: `tracked` users (the hub) keep their own positions and never commit;
 *   each start is a fresh group seeked to the positions the user hands back. `group` users resume
 *   from the group's commits;
 * - one crash-restart policy (./restart): re-list, then start again after a back-off that grows
 *   while no batch gets through, never a tight loop;
 * - batches of a replaced consumer, or fetched before a seek took effect, never reach the user,
 *   so no message is processed twice by one node through a restart;
 * - `handOff` (tracked users only): kafkajs keeps one fetch in flight per broker and starts the
 *   next one only when every batch of the last has been handled. A handed-off batch is resolved
 *   and queued at once, and given to the user on a later event-loop turn, so the next fetch is on
 *   the wire while the user works through this one (at most HAND_OFF_QUEUE batches wait);
 * - a poison partition (the user's handler failed on its batches `poisonAfter` times in a row,
 *   not for an outage) is quarantined: paused, with nothing resolved or committed past it, logged
 *   and counted, and tried again after `quarantineMs`. The other partitions keep flowing. A
 *   record batch kafkajs cannot decode (Batch.undecodable: corrupt, or past a codec's bound)
 *   quarantines its partition at once; the records before it are delivered.
 *
 * Parsing into LogLine with malformed accounting and app learning is ./lines (LogLineReader),
 * called by the users per record: the build consumer parses its own message kind.
 */
import type { Batch, LogwayKafka, PartitionOffsets, RunningConsumer } from '../client';
import type { Logger } from '../../logger';
import { isTopicGone, TopicChanges, TopicDiscovery } from '../topics';
import { Unavailable } from '../../errors';
import { DEFAULT_RESTART, RestartBackoff, RestartPolicy } from './restart';
import type { SourceMetrics } from './metrics';
import type { QuarantineReporter } from '../../dependencies';

/**
 * Where reading starts:
 * - `tracked`: the user's positions (SourceUser.positions) after every start; a fresh group each
 *   time and no commits (the tail hub).
 * - `earliest` / `latest`: the group's commits; a partition without one starts at its first or
 *   next offset (the build consumer).
 * - `group-at-end`: the group's commits; a brand-new group starts at the end of the topics that
 *   exist then (their ends are committed for it first: a new deployment does not replay
 *   retention), and a topic it never committed on (created later) is read from its start (drains).
 */
export type StartPosition = 'tracked' | 'earliest' | 'latest' | 'group-at-end';

/**
 * Who commits: `none` (tracked users), `manual` (the user calls commit() with what it settled:
 * the drain worker's OffsetTracker), `resolved` (kafkajs commits the offsets the user resolved
 * after handling a batch: the build consumer resolves only what PostgreSQL stored).
 */
export type CommitPolicy = 'none' | 'manual' | 'resolved';

export interface LogSourceOptions {
  /** What readiness and logs call the consumer ('tail-hub', 'drains', 'builds'). */
  name: string;
  /** The group (`tracked`: the prefix of one group per start). */
  groupId: string;
  /** Which topics to read. */
  wanted: (topic: string) => boolean;
  /** Topics the source creates when they do not exist (the build-log topic). */
  ensureTopics?: string[];
  start: StartPosition;
  commit: CommitPolicy;
  /** How often topics are listed again (ms). */
  pollMs: number;
  restart?: RestartPolicy;
  /** For every added topic and grown partition, its low/high offsets before topicsChanged (tracked users need them). */
  offsets?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
  maxBytes?: number;
  minBytes?: number;
  maxWaitTimeMs?: number;
  /** Failed batches in a row after which a partition is quarantined (default 3). */
  poisonAfter?: number;
  /** How long a quarantined partition is held before it is tried again (default 5 min). */
  quarantineMs?: number;
  metrics?: SourceMetrics;
  /**
   * Tracked users only: queue each batch (its last offset resolved at once) and hand it to the user
   * on a later event-loop turn, so kafkajs's next fetch overlaps the user's work (the tail hub's option handOff).
   * A batch that fails the user replaces the consumer, seeked back to the user's positions.
   */
  handOff?: boolean;
  /** Where quarantines are reported (the node's DependencyTracker: /health/ready names them). */
  quarantines?: QuarantineReporter;
}

/** Batches a hand-off source holds before kafkajs's eachBatch waits (about two fetches' worth). */
export const HAND_OFF_QUEUE = 8;

interface HandedOff {
  batch: Batch;
  /** The consumer generation and the seek count when it was queued: either changed, it is dropped. */
  gen: number;
  seeks: number;
}

interface Quarantine {
  topic: string;
  partition: number;
  until: number;
  error: string;
}

export interface SourceTopics {
  /** True on the first successful look (the topics that existed when the source started). */
  initial: boolean;
  /** Added topics with their partitions (offsets filled when LogSourceOptions.offsets). */
  added: { topic: string; partitions: PartitionOffsets[] }[];
  /** New partitions of known topics (offsets filled when LogSourceOptions.offsets). */
  grown: { topic: string; partitions: PartitionOffsets[] }[];
  removed: string[];
}

export interface SourceUser {
  /** A batch of one partition, in offset order. Resolve what you handled (batch.resolveOffset). */
  onBatch(batch: Batch): Promise<void> | void;
  /** The topic set changed; called before the consumer is restarted over the new set. */
  topicsChanged?(change: SourceTopics): void;
  /** The running consumer is about to be replaced or stopped (manual committers commit here). */
  beforeRestart?(): Promise<void>;
  /** `tracked`: where to resume each partition, seeked after every start. */
  positions?(): Iterable<{ topic: string; partition: number; offset: number }>;
}

/** The part of lib/kafka the source uses (a scripted client in the unit tests). */
export type SourceKafka = Pick<
  LogwayKafka,
  'listTopics' | 'topicPartitions' | 'createTopic' | 'partitionOffsets' | 'offsetsByTimestamp' | 'consume' | 'startGroupAtEnd'
>;

export class LogSource {
  private consumer?: RunningConsumer;
  private generation = 0;
  private running = false;
  private initialized = false;
  private groupStarted = false;
  private subscribed: string[] = [];
  private discovery: TopicDiscovery;
  private backoff: RestartBackoff;
  private pollTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private refreshing: Promise<void> = Promise.resolve();
  private log: Logger;
  /** Failed batches in a row, per `topic:partition` (cleared by a handled batch). */
  private failures = new Map<string, number>();
  private quarantined = new Map<string, Quarantine>();
  /** Quarantines lifted whose partition has not had a batch through since. */
  private lifted = new Set<string>();
  /** handOff: batches queued for the user, in kafkajs's order, and eachBatch calls waiting for room. */
  private queued: HandedOff[] = [];
  private draining = false;
  private roomWaiters: (() => void)[] = [];
  /** Seeks of the running consumer (seekToTime): a batch queued before one is not handed on. */
  private seeks = 0;

  constructor(
    private kafka: SourceKafka,
    private user: SourceUser,
    private opts: LogSourceOptions,
    /** The user's logger: what the source says is said under the user's component. */
    logger: Logger,
  ) {
    this.log = logger;
    this.discovery = new TopicDiscovery(kafka, opts.wanted, this.log);
    this.backoff = new RestartBackoff(opts.restart ?? DEFAULT_RESTART);
  }

  /** Topics the running consumer reads (empty while none runs). */
  get topics(): string[] {
    return this.subscribed;
  }

  /** Partitions held as poison now, as `topic:partition`. */
  get quarantinedPartitions(): string[] {
    return [...this.quarantined.keys()];
  }

  /** Crashes since the last handled batch. */
  get crashStreak(): number {
    return this.backoff.streak;
  }

  /** Starts reading; Kafka being down is not an error here (the next poll tries again). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.refresh();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'Kafka log source could not start yet; retrying');
    }
    this.pollTimer = setInterval(() => {
      this.refresh().catch((err) => this.log.warn({ err: (err as Error).message }, 'topic refresh failed'));
    }, this.opts.pollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.refreshing.catch(() => undefined);
    const c = this.detachConsumer();
    this.opts.quarantines?.quarantinesDropped(this.opts.name);
    await c?.stop();
  }

  /**
   * Lists the topics and restarts the consumer if the set changed (or none runs). Serialised: a
   * refresh never overlaps another refresh or a restart.
   */
  refresh(): Promise<void> {
    const next = this.refreshing.catch(() => undefined).then(() => this.doRefresh());
    this.refreshing = next;
    return next;
  }

  /** A refresh soon, outside the caller's stack (a commit refused for a deleted topic). */
  refreshSoon(): void {
    setImmediate(() => void this.refresh().catch((err) => this.log.warn({ err: (err as Error).message }, 'topic refresh failed')));
  }

  /** Commits offsets through the running consumer (`manual`); false when none runs. */
  async commit(points: { topic: string; partition: number; offset: string }[]): Promise<boolean> {
    const c = this.consumer;
    if (!c) return false;
    await c.commit(points);
    return true;
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer?.pause(topics);
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer?.resume(topics);
  }

  /** Moves the running consumer of a topic to the first offset at or after `ts` in each partition. */
  async seekToTime(topic: string, ts: number): Promise<{ partition: number; offset: string }[]> {
    const offsets = await this.kafka.offsetsByTimestamp(topic, ts);
    this.seeks++;
    for (const o of offsets) this.consumer?.seek(topic, o.partition, o.offset);
    return offsets;
  }

  private async doRefresh(): Promise<void> {
    if (!this.running) return;
    this.liftQuarantines();
    let changes = await this.discovery.refresh();
    const missing = (this.opts.ensureTopics ?? []).filter((t) => !changes.topics.includes(t));
    if (missing.length) {
      // A consumer may not subscribe to a topic that does not exist (consumers never auto-create).
      for (const t of missing) await this.kafka.createTopic(t);
      const again = await this.discovery.refresh();
      changes = { ...again, added: [...new Set([...changes.added, ...again.added])], removed: changes.removed };
    }
    if (changes.removed.length) this.opts.quarantines?.quarantinesDropped(this.opts.name, changes.removed);
    for (const [key, q] of this.quarantined) {
      if (!changes.removed.includes(q.topic)) continue;
      this.quarantined.delete(key);
      this.opts.metrics?.quarantined.remove({ consumer: this.opts.name, topic: q.topic, partition: String(q.partition) });
    }
    const changed = changes.added.length > 0 || changes.removed.length > 0 || changes.grown.length > 0;
    if (!changed && this.consumer) return;
    if (changed || !this.initialized) {
      try {
        await this.announce(changes);
      } catch (e) {
        // Nothing was applied: the next look reports the same changes again.
        this.discovery.undo(changes);
        throw e;
      }
    }
    if (changed)
      this.log.info(
        { added: changes.added.length, removed: changes.removed.length, grown: changes.grown.length, topics: changes.topics.length },
        'Kafka log topics changed',
      );
    await this.restart(changes.topics);
  }

  private async announce(changes: TopicChanges): Promise<void> {
    const offsets = async (topic: string): Promise<PartitionOffsets[]> =>
      this.opts.offsets
        ? await this.kafka.partitionOffsets(topic)
        : Array.from({ length: this.discovery.partitions(topic) }, (_, partition) => ({ partition, low: '0', high: '0' }));
    const added = await mapLimit(changes.added, 8, async (topic) => ({ topic, partitions: await offsets(topic) }));
    const grown = await mapLimit(changes.grown, 8, async (g) => ({
      topic: g.topic,
      partitions: (await offsets(g.topic)).filter((p) => p.partition >= g.from),
    }));
    const initial = !this.initialized;
    this.initialized = true;
    this.user.topicsChanged?.({ initial, added, grown, removed: changes.removed });
  }

  /** Stops the running consumer and starts one over `topics`, seeked where the user says (tracked). */
  private async restart(topics: string[]): Promise<void> {
    const old = this.consumer;
    if (old) {
      await this.user.beforeRestart?.();
      this.consumer = undefined;
      this.subscribed = [];
      await old.stop();
    }
    if (!this.running || topics.length === 0) return;
    if (this.opts.start === 'group-at-end' && !this.groupStarted) {
      const fresh = await this.kafka.startGroupAtEnd(this.opts.groupId, topics);
      this.groupStarted = true;
      if (fresh) this.log.info({ topics: topics.length, groupId: this.opts.groupId }, 'new consumer group starts at the end of the existing topics');
    }
    const gen = ++this.generation;
    this.dropQueued();
    const tracked = this.opts.start === 'tracked';
    const handOff = tracked && this.opts.handOff === true;
    const consumer = await this.kafka.consume(
      {
        groupId: tracked ? `${this.opts.groupId}-${gen}` : this.opts.groupId,
        name: this.opts.name,
        topics,
        fromBeginning: this.opts.start === 'earliest' || this.opts.start === 'group-at-end',
        autoCommit: this.opts.commit === 'resolved',
        // A tracked consumer's positions are only seeked here: kafkajs restarting it would read from the end.
        kafkajsRestarts: !tracked,
        ownerRestarts: true,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        maxBytesPerPartition: this.opts.maxBytesPerPartition,
        partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently,
        maxBytes: this.opts.maxBytes,
        minBytes: this.opts.minBytes,
        maxWaitTimeMs: this.opts.maxWaitTimeMs,
      },
      async (batch) => {
        // A batch of a replaced consumer, or fetched before our seek took effect, is not ours.
        if (gen !== this.generation || !this.running || batch.isStale()) return;
        if (batch.undecodable) return this.undecodable(batch, gen, handOff);
        if (handOff) return this.handOff(batch, gen);
        try {
          await this.user.onBatch(batch);
        } catch (err) {
          if (this.poison(batch.topic, batch.partition, err)) return;
          throw err;
        }
        this.handled(batch);
      },
    );
    if (tracked) for (const p of this.user.positions?.() ?? []) consumer.seek(p.topic, p.partition, String(p.offset));
    for (const q of this.quarantined.values()) if (topics.includes(q.topic)) consumer.pause([{ topic: q.topic, partitions: [q.partition] }]);
    consumer.onCrash((err) => this.crashed(consumer, err));
    if (!this.running || gen !== this.generation) {
      await consumer.stop();
      return;
    }
    this.consumer = consumer;
    this.subscribed = topics;
  }

  /** The user handled a batch of this partition: its failure streak (and a lifted quarantine) ends. */
  private handled(batch: Batch): void {
    if (this.failures.size) this.failures.delete(`${batch.topic}:${batch.partition}`);
    if (this.lifted.size && this.lifted.delete(`${batch.topic}:${batch.partition}`))
      this.opts.quarantines?.quarantineLifted(this.opts.name, batch.topic, batch.partition);
    this.backoff.progressed();
  }

  /**
   * handOff: resolves the batch's last offset (kafkajs's next fetch starts after it) and queues it;
   * returns at once unless HAND_OFF_QUEUE batches are waiting. The user's resolveOffset calls on
   * it are ignored: resolving an older offset later would move the fetch position back.
   */
  private async handOff(batch: Batch, gen: number): Promise<void> {
    const last = batch.records[batch.records.length - 1];
    if (last) batch.resolveOffset(last.offset);
    this.queued.push({ batch: { ...batch, resolveOffset: () => undefined }, gen, seeks: this.seeks });
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
    while (this.queued.length > HAND_OFF_QUEUE && gen === this.generation) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  /**
   * Hands the queued batches to the user on the next event-loop turn, all that are queued then in
   * that turn (a fetch's batches together: one round of session writes for them, not one per batch).
   */
  private async drain(): Promise<void> {
    while (this.queued.length) {
      await new Promise<void>((r) => setImmediate(r));
      for (let item = this.queued.shift(); item; item = this.queued.shift()) {
        if (this.queued.length <= HAND_OFF_QUEUE) this.wakeWaiters();
        // Queued by a consumer since replaced or stopped, or before a seek: not ours (as isStale()).
        if (item.gen !== this.generation || item.seeks !== this.seeks || !this.running) continue;
        try {
          await this.user.onBatch(item.batch);
        } catch (err) {
          this.handOffFailed(item, err);
          continue;
        }
        this.handled(item.batch);
      }
    }
    this.draining = false;
  }

  private wakeWaiters(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    w.forEach((r) => r());
  }

  /** Drops what is queued (the generation changed); eachBatch calls waiting for room return. */
  private dropQueued(): void {
    this.queued = [];
    this.wakeWaiters();
  }

  /**
   * handOff: the user failed on a batch whose offsets kafkajs already moved past. The failure counts
   * towards a quarantine as usual; the consumer is replaced after the back-off and seeked back to
   * the user's positions, so the batch is read again (or held, if quarantined) and nothing skipped.
   */
  private handOffFailed(item: HandedOff, err: unknown): void {
    const { topic, partition } = item.batch;
    this.poison(topic, partition, err);
    void this.detachConsumer()
      ?.stop()
      .catch(() => undefined);
    const wait = this.backoff.crashed();
    this.log.error(
      { topic, partition, err: (err as Error)?.message ?? String(err), restartInMs: wait },
      'a handed-off Kafka batch failed; restarting the consumer at the handled positions',
    );
    this.restartAfter(wait);
  }

  /**
   * A batch the user's handler failed on. An outage (Unavailable: PostgreSQL down) is nobody's
   * poison: kafkajs retries it. Otherwise, at the poisonAfter-th failure in a row the partition is
   * quarantined and true returned: the batch is dropped unresolved (its offsets are neither
   * committed nor skipped: the partition resumes there when the quarantine is lifted).
   */
  private poison(topic: string, partition: number, err: unknown): boolean {
    if (err instanceof Unavailable) return false;
    const key = `${topic}:${partition}`;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    if (n < (this.opts.poisonAfter ?? 3)) return false;
    const error = (err as Error)?.message ?? String(err);
    this.quarantine(topic, partition, error);
    this.log.error(
      { topic, partition, err: error, failures: n, retryInMs: this.quarantineMs },
      'Kafka partition quarantined: every batch of it failed; the other partitions go on',
    );
    return true;
  }

  private get quarantineMs(): number {
    return this.opts.quarantineMs ?? 300_000;
  }

  /** Holds a partition: paused, reported and counted (the caller logs why). */
  private quarantine(topic: string, partition: number, error: string): void {
    const key = `${topic}:${partition}`;
    this.failures.delete(key);
    const until = Date.now() + this.quarantineMs;
    this.quarantined.set(key, { topic, partition, until, error });
    this.lifted.delete(key);
    this.opts.quarantines?.partitionQuarantined(this.opts.name, topic, partition, error, until);
    this.consumer?.pause([{ topic, partitions: [partition] }]);
    this.opts.metrics?.quarantined.set({ consumer: this.opts.name, topic, partition: String(partition) }, 1);
  }

  /**
   * A batch that ends at a record batch kafkajs could not decode (lib/kafka: Batch.undecodable;
   * every fetch of the partition would end there again): the partition is quarantined at once,
   * and the records before the bad batch go to the user as any batch (handOff: queued). Nothing
   * at or past the bad batch is resolved, so the partition resumes there when the quarantine is
   * lifted, and is held again if it still cannot be decoded.
   */
  private async undecodable(batch: Batch, gen: number, handOff: boolean): Promise<void> {
    const { topic, partition } = batch;
    const bad = batch.undecodable!;
    const error = `record batch at offset ${bad.firstOffset} cannot be decoded: ${bad.reason}`;
    this.quarantine(topic, partition, error);
    this.log.error(
      { topic, partition, offset: bad.firstOffset, lastOffset: bad.lastOffset, err: bad.reason, retryInMs: this.quarantineMs },
      'Kafka partition quarantined: a record batch of it cannot be decoded; the other partitions go on',
    );
    if (batch.records.length === 0) return;
    if (handOff) return this.handOff(batch, gen);
    try {
      await this.user.onBatch(batch);
    } catch (err) {
      // Whatever it left unresolved is read again when the quarantine is lifted.
      this.log.warn(
        { topic, partition, err: (err as Error)?.message ?? String(err) },
        'the records before an undecodable batch failed; read again after the quarantine',
      );
    }
  }

  /** Quarantines past their time are tried again (resumed where they stopped). */
  private liftQuarantines(): void {
    const now = Date.now();
    for (const [key, q] of this.quarantined) {
      if (q.until > now) continue;
      this.quarantined.delete(key);
      this.opts.metrics?.quarantined.remove({ consumer: this.opts.name, topic: q.topic, partition: String(q.partition) });
      this.consumer?.resume([{ topic: q.topic, partitions: [q.partition] }]);
      this.lifted.add(key);
      this.opts.quarantines?.partitionRetrying(this.opts.name, q.topic, q.partition);
      this.log.info({ topic: q.topic, partition: q.partition }, 'quarantined Kafka partition tried again');
    }
  }

  /** kafkajs gave up on this consumer: re-list (a deleted topic is the usual cause) and start again after the back-off. */
  private crashed(consumer: RunningConsumer, err: Error): void {
    if (this.consumer !== consumer || !this.running) return;
    const wait = this.backoff.crashed();
    // The crash itself is said by the dependency tracker (one warn per crash loop); this is the restart's detail.
    this.log.info(
      { err: err?.message, topicGone: isTopicGone(err), restartInMs: wait, crashes: this.backoff.streak },
      'Kafka consumer restarting after its crash',
    );
    // kafkajs disconnected it already. Not stop()ped here: that would tell readiness the consumer
    // stopped, while it is crash-looping until a new one handles a batch (lib/dependencies).
    this.detachConsumer();
    this.restartAfter(wait);
  }

  /**
   * Forgets the running consumer: a new generation, so its batches (queued or in flight) never
   * reach the user. Returns it for the caller to stop, or not.
   */
  private detachConsumer(): RunningConsumer | undefined {
    const c = this.consumer;
    this.consumer = undefined;
    this.subscribed = [];
    this.generation++;
    this.dropQueued();
    return c;
  }

  private restartAfter(wait: number): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.refresh().catch((e) => this.log.warn({ err: (e as Error).message }, 'restart after crash failed; the next poll tries again'));
    }, wait);
    this.restartTimer.unref();
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) {
      const j = i++;
      out[j] = await fn(items[j]);
    }
  });
  await Promise.all(workers);
  return out;
}
