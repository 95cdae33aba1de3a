/**
 * Topic discovery shared by the Kafka consumers (tail hub, drain worker): which log topics exist
 * now, which appeared and which were deleted since the last look. A deleted topic (an Akkeris
 * space removed) must leave the subscription: a consumer that keeps asking for it crash-loops on
 * "This server does not host this topic-partition" and serves no topic at all meanwhile.
 */
import type { Logger } from './logger';

export interface TopicChanges {
  /** Every wanted topic that exists now, sorted. */
  topics: string[];
  added: string[];
  removed: string[];
}

export class TopicDiscovery {
  private known = new Set<string>();

  constructor(
    private kafka: { listTopics(): Promise<string[]> },
    private wanted: (topic: string) => boolean,
    private log: Logger,
  ) {}

  /** The topics of the last look, sorted. */
  get topics(): string[] {
    return [...this.known].sort();
  }

  /**
   * Lists the topics and says what changed since the last call. Each deleted topic is warned
   * about once, when it disappears (not on every retry of a consumer that still asked for it).
   */
  async refresh(): Promise<TopicChanges> {
    const listed = new Set((await this.kafka.listTopics()).filter(this.wanted));
    const added = [...listed].filter((t) => !this.known.has(t)).sort();
    const removed = [...this.known].filter((t) => !listed.has(t)).sort();
    for (const topic of removed) this.log.warn({ topic }, 'Kafka topic deleted; no longer read');
    this.known = listed;
    return { topics: [...listed].sort(), added, removed };
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
