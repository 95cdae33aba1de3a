/**
 * logway's writes to Kafka: two producers made on first use, one per allowAutoTopicCreation.
 *
 * logway's own writes (POST /log-events, which never creates a topic) go through an idempotent
 * producer: acks=all plus producer sequence numbers, so a send retried through a leader election
 * is written once. kafkajs keeps those sequences right only with one request in flight and one
 * send at a time (tulios/kafkajs#598), so its sends are queued. The auto-creating producer (test
 * and benchmark fill, many sends in flight) stays plain acks=all.
 */
import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import { PartitionLedger, sendAcknowledged } from './acks';
import type { KafkaConnection } from './connection';
import type { OutgoingRecord, ProduceOptions } from './types';

/**
 * Retries of logway's own writes: about 20 s of backoff (0.2, 0.4 … 5 s), longer than a leader
 * election after a broker's death (KRaft fences it after broker.session.timeout.ms, 9 s by
 * default), short enough that POST /log-events answers 503 rather than hang when Kafka is gone.
 */
const PRODUCER_RETRY = { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 };

export interface KafkaProducers {
  produce(topic: string, records: OutgoingRecord[], opts?: ProduceOptions): Promise<void>;
  close(): Promise<void>;
}

export function kafkaProducers(conn: KafkaConnection): KafkaProducers {
  /** Keyed by allowAutoTopicCreation; each connected on first use. */
  const producersReady = new Map<boolean, Promise<Producer>>();
  const producers = new Set<Producer>();
  /** Each message's partition, so a send kafkajs resolved with a partition left out is completed (./acks). */
  const ledger = new PartitionLedger();
  /** Sends of the idempotent producer, one at a time. */
  let idempotentChain: Promise<unknown> = Promise.resolve();

  function getProducer(autoCreateTopic: boolean): Promise<Producer> {
    let ready = producersReady.get(autoCreateTopic);
    if (!ready) {
      const idempotent = !autoCreateTopic;
      const p = conn.kafka.producer({
        createPartitioner: () => ledger.wrap(Partitioners.DefaultPartitioner()),
        allowAutoTopicCreation: autoCreateTopic,
        idempotent,
        ...(idempotent ? { maxInFlightRequests: 1, retry: PRODUCER_RETRY } : {}),
      });
      ready = p.connect().then(
        () => {
          producers.add(p);
          return p;
        },
        (e) => {
          producersReady.delete(autoCreateTopic);
          throw e;
        },
      );
      producersReady.set(autoCreateTopic, ready);
    }
    return ready;
  }

  /** One send at a time through the idempotent producer; a failed one retires it. */
  async function sendIdempotent(p: Producer, send: () => Promise<void>): Promise<void> {
    const sent = idempotentChain.then(send, send);
    idempotentChain = sent.catch(() => undefined);
    await sent.catch(async (e) => {
      // A failed idempotent send leaves its sequence state unknown (OUT_OF_ORDER_SEQUENCE_NUMBER
      // would follow forever): the next send starts with a fresh producer id.
      if (producersReady.has(false)) {
        producersReady.delete(false);
        producers.delete(p);
        await p.disconnect().catch(() => undefined);
      }
      throw e;
    });
  }

  return {
    async produce(topic, records, opts = {}) {
      const askedAt = Date.now();
      try {
        const autoCreate = opts.autoCreateTopic ?? true;
        const p = await getProducer(autoCreate);
        const send = () => sendAcknowledged(ledger, (messages) => p.send({ topic, acks: -1, compression: CompressionTypes.None, messages }), records);
        if (autoCreate) await send();
        else await sendIdempotent(p, send);
        conn.answered(askedAt);
      } catch (e) {
        throw conn.unavailable(e, askedAt);
      }
    },

    async close() {
      await Promise.all([...producers].map((p) => p.disconnect().catch(() => undefined)));
      producers.clear();
      producersReady.clear();
    },
  };
}
