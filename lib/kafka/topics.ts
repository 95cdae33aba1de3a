/**
 * Topic discovery of the Kafka log source (lib/kafka/source): which log topics exist now, which
 * appeared, which gained partitions and which were deleted since the last look. A deleted topic (an Akkeris
 * space removed) must leave the subscription: a consumer that keeps asking for it crash-loops on
 * "This server does not host this topic-partition" and serves no topic at all meanwhile.
 */
import type { Logger } from '../logger';

export interface TopicChanges {
  /** Every wanted topic that exists now, sorted. */
  topics: string[];
  added: string[];
  removed: string[];
  /**
   * Topics seen before whose partition count went up since the last look (a consumer subscribed
   * before that does not read the new partitions until it subscribes again). Listed only when
   * the client reports partition counts (topicPartitions).
   */
  grown: { topic: string; from: number; to: number }[];
}

/** What discovery needs of the Kafka client: the topic list, or better, topics with their partition counts. */
export interface TopicLister {
  listTopics(): Promise<string[]>;
  topicPartitions?(): Promise<{ topic: string; partitions: number }[]>;
}

export class TopicDiscovery {
  /** Wanted topics of the last look, with their partition count (0 when the client does not say). */
  private known = new Map<string, number>();

  constructor(
    private kafka: TopicLister,
    private wanted: (topic: string) => boolean,
    private log: Logger,
  ) {}

  /** The topics of the last look, sorted. */
  get topics(): string[] {
    return [...this.known.keys()].sort();
  }

  /** Partition count of a topic at the last look (0 if unknown). */
  partitions(topic: string): number {
    return this.known.get(topic) ?? 0;
  }

  /**
   * Forgets what a refresh reported, so the next refresh reports it again (its user could not act
   * on it: Kafka failed while it read the new partitions' offsets).
   */
  undo(changes: TopicChanges): void {
    for (const t of changes.added) this.known.delete(t);
    for (const g of changes.grown) this.known.set(g.topic, g.from);
    for (const t of changes.removed) this.known.set(t, 0);
  }

  /**
   * Lists the topics and says what changed since the last call. `removed` holds the deleted
   * topics and those no longer wanted (the filter may change: the tail hub reads on demand). Each
   * deleted topic is warned about once, when it disappears (not on every retry of a consumer that
   * still asked for it).
   */
  async refresh(): Promise<TopicChanges> {
    const listing = this.kafka.topicPartitions
      ? await this.kafka.topicPartitions()
      : (await this.kafka.listTopics()).map((topic) => ({ topic, partitions: 0 }));
    const listed = new Map(listing.filter((t) => this.wanted(t.topic)).map((t) => [t.topic, t.partitions] as const));
    const added = [...listed.keys()].filter((t) => !this.known.has(t)).sort();
    const removed = [...this.known.keys()].filter((t) => !listed.has(t)).sort();
    const grown: TopicChanges['grown'] = [];
    for (const [topic, to] of listed) {
      const from = this.known.get(topic);
      if (from !== undefined && from > 0 && to > from) grown.push({ topic, from, to });
    }
    grown.sort((a, b) => (a.topic < b.topic ? -1 : 1));
    for (const topic of removed) {
      if (listing.some((t) => t.topic === topic)) this.log.info({ topic }, 'Kafka topic no longer wanted; no longer read');
      else this.log.warn({ topic }, 'Kafka topic deleted; no longer read');
    }
    for (const g of grown) this.log.info(g, 'Kafka topic has new partitions; reading them');
    this.known = listed;
    return { topics: [...listed.keys()].sort(), added, removed, grown };
  }
}

/** Kafka's error types for a topic or partition that does not exist (any more). */
const GONE = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);

/**
 * True when a Kafka client error says a topic or partition does not exist, looking through the
 * client's retry wrappers (kafkajs: KafkaJSNumberOfRetriesExceeded → originalError / cause).
 */
export function isTopicGone(e: unknown): boolean {
  let err = e as { type?: unknown; message?: unknown; originalError?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; err && depth < 5; depth++) {
    if (typeof err.type === 'string' && GONE.has(err.type)) return true;
    if (typeof err.message === 'string' && /does not host this topic-partition|unknown topic/i.test(err.message)) return true;
    err = (err.originalError ?? err.cause) as typeof err;
  }
  return false;
}
