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

export class KafkaProducers {
  /** Keyed by allowAutoTopicCreation; each connected on first use. */
  private ready = new Map<boolean, Promise<Producer>>();
  private connected = new Set<Producer>();
  /** Each message's partition, so a send kafkajs resolved with a partition left out is completed (./acks). */
  private ledger = new PartitionLedger();
  /** Sends of the idempotent producer, one at a time. */
  private idempotentChain: Promise<unknown> = Promise.resolve();

  constructor(private conn: KafkaConnection) {}

  async produce(topic: string, records: OutgoingRecord[], opts: ProduceOptions = {}): Promise<void> {
    const askedAt = Date.now();
    try {
      const autoCreate = opts.autoCreateTopic ?? true;
      const p = await this.producer(autoCreate);
      const send = () => sendAcknowledged(this.ledger, (messages) => p.send({ topic, acks: -1, compression: CompressionTypes.None, messages }), records);
      if (autoCreate) await send();
      else await this.sendIdempotent(p, send);
      this.conn.answered(askedAt);
    } catch (e) {
      throw this.conn.unavailable(e, askedAt);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.connected].map((p) => p.disconnect().catch(() => undefined)));
    this.connected.clear();
    this.ready.clear();
  }

  private producer(autoCreateTopic: boolean): Promise<Producer> {
    let ready = this.ready.get(autoCreateTopic);
    if (!ready) {
      const idempotent = !autoCreateTopic;
      const p = this.conn.kafka.producer({
        createPartitioner: () => this.ledger.wrap(Partitioners.DefaultPartitioner()),
        allowAutoTopicCreation: autoCreateTopic,
        idempotent,
        ...(idempotent ? { maxInFlightRequests: 1, retry: PRODUCER_RETRY } : {}),
      });
      ready = p.connect().then(
        () => {
          this.connected.add(p);
          return p;
        },
        (e) => {
          this.ready.delete(autoCreateTopic);
          throw e;
        },
      );
      this.ready.set(autoCreateTopic, ready);
    }
    return ready;
  }

  /** One send at a time through the idempotent producer; a failed one retires it. */
  private async sendIdempotent(p: Producer, send: () => Promise<void>): Promise<void> {
    const sent = this.idempotentChain.then(send, send);
    this.idempotentChain = sent.catch(() => undefined);
    await sent.catch(async (e) => {
      // A failed idempotent send leaves its sequence state unknown (OUT_OF_ORDER_SEQUENCE_NUMBER
      // would follow forever): the next send starts with a fresh producer id.
      if (this.ready.has(false)) {
        this.ready.delete(false);
        this.connected.delete(p);
        await p.disconnect().catch(() => undefined);
      }
      throw e;
    });
  }
}
