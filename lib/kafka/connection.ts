/**
 * What the producer, consumer, admin and read-back parts of one client share: the kafkajs
 * instance, the logger, the consumers to disconnect on close, and how a call's outcome reaches
 * the dependency tracker.
 */
import type { Kafka as KafkaJs, Consumer } from 'kafkajs';
import type { Logger } from '../logger';
import type { DependencyTracker } from '../dependencies';
import { isConnectionFailure, kafkaUnavailable } from './failures';

export interface KafkaConnection {
  kafka: KafkaJs;
  log: Logger;
  deps?: DependencyTracker;
  /** Every consumer not yet disconnected (close() disconnects them). */
  consumers: Set<Consumer>;
  /** Our error for a failed call (sent at `askedAt`); a connection-level one is an outage for the tracker. */
  unavailable(e: unknown, askedAt?: number): unknown;
  /** A call sent at `askedAt` was answered (lib/dependencies: answers to calls older than an outage do not end it). */
  answered(askedAt: number): void;
}

export function kafkaConnection(kafka: KafkaJs, log: Logger, deps?: DependencyTracker): KafkaConnection {
  return {
    kafka,
    log,
    deps,
    consumers: new Set(),
    unavailable(e, askedAt) {
      const out = kafkaUnavailable(e);
      if (isConnectionFailure(e)) deps?.failed(out, askedAt);
      return out;
    },
    answered: (askedAt) => deps?.up('kafka', askedAt),
  };
}

/** Disconnects a consumer of ours and forgets it (errors on the way out are not the caller's). */
export async function disconnectConsumer(conn: KafkaConnection, consumer: Consumer): Promise<void> {
  conn.consumers.delete(consumer);
  await consumer.disconnect().catch(() => undefined);
}
