/** The log source's metrics, one set per registry (several sources share a node's registry). */
import { Gauge, Registry } from 'prom-client';

export interface SourceMetrics {
  /** Partitions held after failing batch after batch (LogSource quarantine), by consumer. */
  quarantined: Gauge<'consumer' | 'topic' | 'partition'>;
}

export function sourceMetrics(registry: Registry): SourceMetrics {
  const name = 'logway_kafka_partition_quarantined';
  const quarantined =
    (registry.getSingleMetric(name) as Gauge<'consumer' | 'topic' | 'partition'> | undefined) ??
    new Gauge({
      name,
      help: 'Kafka partitions a consumer holds (paused, nothing committed past them) because every batch of theirs failed: 1 while held',
      labelNames: ['consumer', 'topic', 'partition'],
      registers: [registry],
    });
  return { quarantined };
}
