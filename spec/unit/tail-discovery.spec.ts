/**
 * lib/tail/discovery: an app the registry lacks is looked for in its space topic, incrementally —
 * the first look reads the last scanMessages per partition, later looks only what was written
 * since, and a look with nothing new (or no topic) reads nothing.
 */
import type { KafkaRecord, PartitionRange } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { AppDiscovery } from '../../lib/tail/discovery';

const SPACE = 'space1';

/** One partition of SPACE holding fluentd JSON lines of the given apps, offsets 0..n-1. */
class FakeTopic {
  records: KafkaRecord[] = [];
  reads: PartitionRange[][] = [];
  exists = true;

  write(app: string): void {
    const value = JSON.stringify({
      log: 'hello\n',
      stream: 'stdout',
      time: new Date().toISOString(),
      kubernetes: { container_name: app, pod_name: `${app}-web-1-abcde` },
      topic: SPACE,
    });
    this.records.push({
      topic: SPACE,
      partition: 0,
      offset: String(this.records.length),
      timestamp: String(Date.now()),
      key: Buffer.from(app),
      value: Buffer.from(value),
    });
  }

  discovery(scanMessages: number) {
    const learned: string[] = [];
    const discovery = new AppDiscovery({
      kafka: {
        listTopics: async () => (this.exists ? [SPACE] : []),
        partitionOffsets: async () => [{ partition: 0, low: '0', high: String(this.records.length) }],
      },
      apps: { learn: (app) => void learned.push(app) },
      readBack: async (ranges) => {
        this.reads.push(ranges);
        const [r] = ranges;
        return { records: this.records.slice(Number(r.from), Number(r.to)), complete: true };
      },
      scanMessages,
      log: createLogger('silent'),
    });
    return { discovery, learned };
  }
}

it('finds and registers the apps of the space topic, reading only what is new on each look', async () => {
  const topic = new FakeTopic();
  for (let i = 0; i < 10; i++) topic.write(i < 5 ? 'old' : 'recent');
  const { discovery, learned } = topic.discovery(5);

  // The first look reads the last 5 messages: `old` is further back.
  expect(await discovery.has(`recent-${SPACE}`)).toBe(true);
  expect(topic.reads).toEqual([[{ topic: SPACE, partition: 0, from: '5', to: '10' }]]);
  expect(learned).toEqual([`recent-${SPACE}`]);

  // Nothing written since: an unknown app is not found, without a read.
  expect(await discovery.has(`nobody-${SPACE}`)).toBe(false);
  expect(topic.reads).toHaveLength(1);

  // An app whose first line was just written: only that line is read.
  topic.write('fresh');
  expect(await discovery.has(`fresh-${SPACE}`)).toBe(true);
  expect(topic.reads[1]).toEqual([{ topic: SPACE, partition: 0, from: '10', to: '11' }]);
  expect(learned).toEqual([`recent-${SPACE}`, `fresh-${SPACE}`]);
});

it('a space without a topic has no apps, and nothing is read', async () => {
  const topic = new FakeTopic();
  topic.exists = false;
  const { discovery } = topic.discovery(5);
  expect(await discovery.has(`app-${SPACE}`)).toBe(false);
  expect(topic.reads).toHaveLength(0);
});
