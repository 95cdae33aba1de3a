/** lib/kafka/topics.ts: what changed between two looks at Kafka's topic list, and which errors mean "the topic is gone". */
import { isTopicGone, TopicDiscovery } from '../../lib/kafka/topics';
import { createLogger } from '../../lib/logger';

function discovery(listings: string[][]) {
  const warnings: { topic?: string; msg?: string }[] = [];
  const log = createLogger('warn', { write: (s: string) => void warnings.push(JSON.parse(s)) });
  let i = 0;
  const kafka = { listTopics: async () => listings[Math.min(i++, listings.length - 1)] };
  return { d: new TopicDiscovery(kafka, (t) => !t.startsWith('_'), log), warnings };
}

describe('TopicDiscovery', () => {
  it('reports added and removed wanted topics, and warns once per deleted topic', async () => {
    const { d, warnings } = discovery([
      ['b', 'a', '_internal'],
      ['a', 'b', 'c'],
      ['a', 'c'],
      ['a', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(await d.refresh()).toEqual({ topics: ['a', 'b'], added: ['a', 'b'], removed: [], grown: [] });
    expect(await d.refresh()).toEqual({ topics: ['a', 'b', 'c'], added: ['c'], removed: [], grown: [] });
    expect(await d.refresh()).toEqual({ topics: ['a', 'c'], added: [], removed: ['b'], grown: [] });
    // Still gone on the next look: not reported (nor warned) again.
    expect(await d.refresh()).toEqual({ topics: ['a', 'c'], added: [], removed: [], grown: [] });
    // Re-created under the same name: a new topic.
    expect(await d.refresh()).toEqual({ topics: ['a', 'b', 'c'], added: ['b'], removed: [], grown: [] });
    expect(d.topics).toEqual(['a', 'b', 'c']);
    expect(warnings.map((w) => [w.topic, w.msg])).toEqual([['b', 'Kafka topic deleted; no longer read']]);
  });

  it('reports new partitions of a known topic when the client gives partition counts', async () => {
    const log = createLogger('silent');
    const listings = [
      [
        { topic: 'a', partitions: 1 },
        { topic: 'b', partitions: 3 },
      ],
      [
        { topic: 'a', partitions: 4 },
        { topic: 'b', partitions: 3 },
        { topic: 'c', partitions: 2 },
      ],
      [
        { topic: 'a', partitions: 4 },
        { topic: 'c', partitions: 2 },
      ],
    ];
    let i = 0;
    const d = new TopicDiscovery({ listTopics: async () => [], topicPartitions: async () => listings[Math.min(i++, listings.length - 1)] }, () => true, log);
    expect(await d.refresh()).toEqual({ topics: ['a', 'b'], added: ['a', 'b'], removed: [], grown: [] });
    expect(await d.refresh()).toEqual({ topics: ['a', 'b', 'c'], added: ['c'], removed: [], grown: [{ topic: 'a', from: 1, to: 4 }] });
    expect(d.partitions('a')).toBe(4);
    expect(await d.refresh()).toEqual({ topics: ['a', 'c'], added: [], removed: ['b'], grown: [] });
  });

  it('a failed listing changes nothing', async () => {
    const log = createLogger('silent');
    let fail = false;
    const d = new TopicDiscovery({ listTopics: async () => (fail ? Promise.reject(new Error('down')) : ['a']) }, () => true, log);
    await d.refresh();
    fail = true;
    await expect(d.refresh()).rejects.toThrow('down');
    expect(d.topics).toEqual(['a']);
  });
});

describe('isTopicGone', () => {
  it('sees UNKNOWN_TOPIC_OR_PARTITION through the client retry wrappers', () => {
    const protocol = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const retries = Object.assign(new Error('This server does not host this topic-partition'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: protocol,
    });
    expect(isTopicGone(protocol)).toBe(true);
    expect(isTopicGone(retries)).toBe(true);
    expect(isTopicGone({ message: 'wrapped', cause: { type: 'UNKNOWN_TOPIC_ID' } })).toBe(true);
  });

  it('is false for other failures', () => {
    expect(isTopicGone(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(false);
    expect(isTopicGone(Object.assign(new Error('leader moved'), { type: 'NOT_LEADER_FOR_PARTITION' }))).toBe(false);
    expect(isTopicGone(undefined)).toBe(false);
    expect(isTopicGone('a string')).toBe(false);
  });
});
