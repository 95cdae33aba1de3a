/**
 * The Kafka log source: the one consumer loop of logway (Vector's "source", logplex's channel
 * feed). The tail hub, the drain worker and the build consumer each run one, with their own
 * settings (group, start position, commit policy: ./options), and receive batches; the source does the rest:
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
 * - poison partitions (./quarantine): one whose batches keep failing the user, or whose next
 *   record batch cannot be decoded (FetchedBatch.undecodable), is held while the others flow;
 *   the records before an undecodable batch are delivered.
 *
 * Parsing into LogLine with malformed accounting and app learning is ./lines (LogLineReader),
 * called by the users per record: the build consumer parses its own message kind.
 */
import type { FetchedBatch, PartitionOffsets, RunningConsumer } from '../types';
import type { Logger } from '../../logger';
import { isTopicGone, TopicChanges, TopicDiscovery } from '../topics';
import { DEFAULT_RESTART, RestartBackoff } from './restart';
import type { LogSourceOptions, SourceKafka, SourceUser } from './options';
import { Quarantines } from './quarantine';

export type { CommitPolicy, LogSourceOptions, SourceKafka, SourceTopics, SourceUser, StartPosition } from './options';

export class LogSource {
  private consumer?: RunningConsumer;
  private generation = 0;
  /** Replaced consumers still stopping (tracked: not awaited by the restart; awaited by stop()). */
  private stopping = new Set<Promise<void>>();
  /** Consumers started, naming a tracked user's group per start. */
  private starts = 0;
  private running = false;
  private initialized = false;
  private groupStarted = false;
  private subscribed: string[] = [];
  private discovery: TopicDiscovery;
  private backoff: RestartBackoff;
  private quarantines: Quarantines;
  private pollTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private refreshing: Promise<void> = Promise.resolve();
  private log: Logger;

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
    this.quarantines = new Quarantines(opts, this.log, () => this.consumer);
  }

  /** Topics the running consumer reads (empty while none runs). */
  get topics(): string[] {
    return this.subscribed;
  }

  /** Partitions held as poison now, as `topic:partition`. */
  get quarantinedPartitions(): string[] {
    return this.quarantines.keys;
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
    await Promise.all(this.stopping);
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
    for (const o of offsets) this.consumer?.seek(topic, o.partition, o.offset);
    return offsets;
  }

  private async doRefresh(): Promise<void> {
    if (!this.running) return;
    this.quarantines.liftDue();
    const changes = await this.lookAtTopics();
    this.quarantines.dropTopics(changes.removed);
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

  /** The topic changes since the last look, after creating the ensureTopics that are missing. */
  private async lookAtTopics(): Promise<TopicChanges> {
    const changes = await this.discovery.refresh();
    const missing = (this.opts.ensureTopics ?? []).filter((t) => !changes.topics.includes(t));
    if (!missing.length) return changes;
    // A consumer may not subscribe to a topic that does not exist (consumers never auto-create).
    for (const t of missing) await this.kafka.createTopic(t);
    const again = await this.discovery.refresh();
    return { ...again, added: [...new Set([...changes.added, ...again.added])], removed: changes.removed };
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
      // A tracked consumer is its own group, so its successor need not wait for it to leave; and
      // one whose fetch is retrying a deleted topic takes seconds to stop, which would hold up
      // every read that waits for this restart (a session asking for its space). A group member
      // must leave first, or the group would wait for its session to time out.
      if (this.opts.start === 'tracked') {
        this.generation++;
        const stopped = old
          .stop()
          .catch((err) => this.log.warn({ err: (err as Error).message }, 'Kafka consumer did not stop cleanly'))
          .finally(() => this.stopping.delete(stopped));
        this.stopping.add(stopped);
      } else await old.stop();
    }
    if (!this.running || topics.length === 0) return;
    if (this.opts.start === 'group-at-end' && !this.groupStarted) {
      const fresh = await this.kafka.startGroupAtEnd(this.opts.groupId, topics);
      this.groupStarted = true;
      if (fresh) this.log.info({ topics: topics.length, groupId: this.opts.groupId }, 'new consumer group starts at the end of the existing topics');
    }
    const gen = ++this.generation;
    const consumer = await this.startConsumer(topics, gen);
    if (this.opts.start === 'tracked') for (const p of this.user.positions?.() ?? []) consumer.seek(p.topic, p.partition, String(p.offset));
    this.quarantines.pauseHeld(consumer, topics);
    consumer.onCrash((err) => this.crashed(consumer, err));
    if (!this.running || gen !== this.generation) {
      await consumer.stop();
      return;
    }
    this.consumer = consumer;
    this.subscribed = topics;
  }

  private startConsumer(topics: string[], gen: number): Promise<RunningConsumer> {
    const tracked = this.opts.start === 'tracked';
    return this.kafka.consume(
      {
        groupId: tracked ? `${this.opts.groupId}-${++this.starts}` : this.opts.groupId,
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
      (batch) => this.onBatch(batch, gen),
    );
  }

  private async onBatch(batch: FetchedBatch, gen: number): Promise<void> {
    // A batch of a replaced consumer, or fetched before our seek took effect, is not ours.
    if (gen !== this.generation || !this.running || batch.isStale()) return;
    if (batch.undecodable) return this.undecodable(batch);
    try {
      await this.user.onBatch(batch);
    } catch (err) {
      if (this.quarantines.failed(batch.topic, batch.partition, err)) return;
      throw err;
    }
    this.quarantines.handled(batch.topic, batch.partition);
    this.backoff.progressed();
  }

  /**
   * A batch that ends at a record batch kafkajs could not decode: the partition is quarantined at
   * once, and the records before the bad batch go to the user as any batch. Nothing at or past
   * the bad batch is resolved, so the partition resumes there when the quarantine is lifted, and
   * is held again if it still cannot be decoded.
   */
  private async undecodable(batch: FetchedBatch): Promise<void> {
    const { topic, partition } = batch;
    this.quarantines.undecodable(topic, partition, batch.undecodable!);
    if (batch.records.length === 0) return;
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
   * Forgets the running consumer: a new generation, so its batches in flight never reach the
   * user. Returns it for the caller to stop, or not.
   */
  private detachConsumer(): RunningConsumer | undefined {
    const c = this.consumer;
    this.consumer = undefined;
    this.subscribed = [];
    this.generation++;
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
