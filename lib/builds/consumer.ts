/** The `alamobuildlogs` consumer: Kafka batches → BuildStore, offsets resolved only after PostgreSQL committed them. */
import type { Core } from '../core';
import type { Batch, RunningConsumer } from '../kafka';
import { Counter } from 'prom-client';
import { BuildStore, SkipKind } from './store';

export interface BuildConsumerOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  /** Wait before restarting a consumer that kafkajs gave up on (e.g. Kafka down for long). */
  restartDelayMs: number;
}

export interface BuildMetrics {
  linesStored: Counter;
  skipped: Counter<'kind'>;
}

/** Registered once per registry, so two features on one Core (tests) share the counters. */
export function buildMetrics(core: Core): BuildMetrics {
  const reg = core.prom.registry;
  const linesStored =
    (reg.getSingleMetric('logway_build_lines_stored_total') as Counter | undefined) ??
    new Counter({ name: 'logway_build_lines_stored_total', help: 'Build-log lines stored (redeliveries not counted)', registers: [reg] });
  const skipped =
    (reg.getSingleMetric('logway_build_messages_skipped_total') as Counter<'kind'> | undefined) ??
    new Counter({
      name: 'logway_build_messages_skipped_total',
      help: 'alamobuildlogs messages skipped as malformed or refused by PostgreSQL (kind quarantined), by kind',
      labelNames: ['kind'],
      registers: [reg],
    });
  return { linesStored, skipped };
}

export class BuildConsumer {
  private consumer?: RunningConsumer;
  private stopped = true;
  private restartTimer?: NodeJS.Timeout;
  private warned = new Set<SkipKind>();
  private log;

  constructor(
    private core: Core,
    private store: BuildStore,
    private metrics: BuildMetrics,
    private opts: BuildConsumerOptions,
  ) {
    this.log = core.logger.child({ component: 'builds', topic: opts.topic, groupId: opts.groupId });
  }

  /**
   * Starts consuming. Kafka being down does not fail the node's start (results are served from
   * PostgreSQL meanwhile): the consumer keeps retrying every restartDelayMs in the background.
   */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.connect();
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'build-log consumer could not start; retrying');
      this.scheduleRestart();
    }
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    this.restartTimer = setTimeout(() => {
      this.connect().catch((e) => {
        this.log.error({ err: (e as Error).message }, 'build-log consumer restart failed; retrying');
        this.scheduleRestart();
      });
    }, this.opts.restartDelayMs);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    // A consumer may not subscribe to a topic that does not exist yet (auto creation is off for consumers).
    const topics = await this.core.kafka.listTopics();
    if (!topics.includes(this.opts.topic)) await this.core.kafka.createTopic(this.opts.topic);
    const consumer = await this.core.kafka.consume(
      { groupId: this.opts.groupId, name: 'builds', topics: [this.opts.topic], fromBeginning: this.opts.fromBeginning, autoCommit: true },
      (batch) => this.onBatch(batch),
    );
    consumer.onCrash((err) => {
      if (this.stopped) return;
      this.log.error({ err: err.message }, 'build-log consumer stopped; restarting');
      this.consumer = undefined;
      this.scheduleRestart();
    });
    if (this.stopped) {
      // stop() ran while we were connecting.
      await consumer.stop();
      return;
    }
    this.consumer = consumer;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  /** Throwing here makes kafkajs retry the batch from its first unresolved offset: at-least-once, and ingest is idempotent. */
  private async onBatch(batch: Batch): Promise<void> {
    if (batch.records.length === 0) return;
    const result = await this.store.ingest(batch.records);
    this.metrics.linesStored.inc(result.linesStored);
    for (const s of result.skipped) {
      this.metrics.skipped.inc({ kind: s.kind });
      const position = { topic: s.record.topic, partition: s.record.partition, offset: s.record.offset };
      if (s.kind === 'quarantined') {
        // Rare and each one a lost record: every one is logged, with where to find it in Kafka.
        this.log.warn({ kind: s.kind, reason: s.reason, ...position }, 'PostgreSQL refused a build-log message; skipped (quarantined)');
      } else if (!this.warned.has(s.kind)) {
        this.warned.add(s.kind);
        this.log.warn({ kind: s.kind, reason: s.reason, ...position }, 'skipping malformed build-log message (logged once per kind)');
      }
    }
    batch.resolveOffset(batch.records[batch.records.length - 1].offset);
    await batch.heartbeat();
  }
}
