/**
 * The log source's metrics, one set per registry: the source's users (the tail hub, the drain
 * workers) count into the same series, told apart by a `consumer` label.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../../prom';
import type { LogLineReaderDeps } from './lines';

export interface SourceMetrics {
  /** Partitions held after failing batch after batch (LogSource quarantine), by consumer. */
  quarantined: Gauge<'consumer' | 'topic' | 'partition'>;
  /** Kafka log messages read, by consumer (`tail`, `drains`). */
  linesConsumed: Counter<'consumer'>;
  /** Kafka log messages skipped as unparseable, by consumer and kind (lib/log/parse ParseFailureKind). */
  malformed: Counter<'consumer' | 'kind'>;
}

export function sourceMetrics(registry: Registry): SourceMetrics {
  return {
    quarantined: gauge(registry, {
      name: 'logway_kafka_partition_quarantined',
      help: 'Kafka partitions a consumer holds (paused, nothing committed past them) because every batch of theirs failed: 1 while held',
      labelNames: ['consumer', 'topic', 'partition'],
    }),
    linesConsumed: counter(registry, {
      name: 'logway_lines_consumed_total',
      help: 'Kafka log messages consumed, by consumer (tail, drains)',
      labelNames: ['consumer'],
    }),
    malformed: counter(registry, {
      name: 'logway_log_messages_malformed_total',
      help: 'Kafka log messages skipped because they could not be parsed, by consumer and kind',
      labelNames: ['consumer', 'kind'],
    }),
  };
}

/** The malformed counter as one consumer's LogLineReader counts into it. */
export function malformedBy(malformed: SourceMetrics['malformed'], consumer: string): LogLineReaderDeps['malformed'] {
  return { inc: ({ kind }, value) => malformed.inc({ consumer, kind }, value) };
}
