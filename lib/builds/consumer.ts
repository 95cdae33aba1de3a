/** The `alamobuildlogs` consumer: Kafka batches → BuildStore, offsets resolved only after PostgreSQL committed them. */
import type { Core } from '../core';
import { LogSource, sourceMetrics, type Batch } from '../kafka';
import type { Counter } from 'prom-client';
import { counter } from '../prom';
import { BuildStore, SkipKind } from './store';

export interface BuildConsumerOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  /** First wait before restarting a consumer that kafkajs gave up on (doubling while it keeps crashing). */
  restartDelayMs: number;
  /** How often the topic is checked (deleted, new partitions). Default 5000. */
  pollMs?: number;
}

export interface BuildMetrics {
  linesStored: Counter;
  skipped: Counter<'kind'>;
}

/** Registered once per registry, so two features on one Core (tests) share the counters. */
export function buildMetrics(core: Core): BuildMetrics {
  const reg = core.prom.registry;
  return {
    linesStored: counter(reg, { name: 'logway_build_lines_stored_total', help: 'Build-log lines stored (redeliveries not counted)' }),
    skipped: counter(reg, {
      name: 'logway_build_messages_skipped_total',
      help: 'alamobuildlogs messages skipped as malformed or refused by PostgreSQL (kind quarantined), by kind',
      labelNames: ['kind'],
    }),
  };
}

/**
 * A user of the Kafka log source (lib/kafka/source): the build-log topic (created if missing) read by a
 * shared group, kafkajs committing only the offsets resolved after PostgreSQL stored them.
 */
export class BuildConsumer {
  private source: LogSource;
  private warned = new Set<SkipKind>();
  private log;

  constructor(
    core: Core,
    private store: BuildStore,
    private metrics: BuildMetrics,
    opts: BuildConsumerOptions,
  ) {
    this.log = core.logger.child({ component: 'builds', topic: opts.topic, groupId: opts.groupId });
    this.source = new LogSource(
      core.kafka,
      { onBatch: (batch) => this.onBatch(batch) },
      {
        name: 'builds',
        groupId: opts.groupId,
        wanted: (t) => t === opts.topic,
        ensureTopics: [opts.topic],
        start: opts.fromBeginning ? 'earliest' : 'latest',
        commit: 'resolved',
        pollMs: opts.pollMs ?? 5000,
        restart: { baseMs: opts.restartDelayMs, maxMs: Math.max(opts.restartDelayMs, 30_000) },
        metrics: sourceMetrics(core.prom.registry),
        quarantines: core.dependencies,
      },
      this.log,
    );
  }

  /**
   * Starts consuming. Kafka being down does not fail the node's start (results are served from
   * PostgreSQL meanwhile): the source keeps trying in the background.
   */
  start(): Promise<void> {
    return this.source.start();
  }

  stop(): Promise<void> {
    return this.source.stop();
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
