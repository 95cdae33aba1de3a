/**
 * Where an app the registry lacks is looked for before a 404 (AppRegistry.setDiscovery): in its
 * space topic. The registry learns apps from the drains consumer group, which reads every line
 * once per cluster; this covers what that path has not registered yet — a first deployment against
 * a Kafka that already holds logs, and an app whose first line was written a moment ago. Each
 * space topic is scanned incrementally: the first look reads the last `scanMessages` of each
 * partition, later looks only what was written since the previous one (nothing when nothing
 * was), so an unknown app of a quiet space is a 404 without another Kafka read. Every app found
 * is registered. Reads go through the node's read-back limiter (429 when it is full).
 */
import type { KafkaRecord, LogwayKafka, PartitionRange } from '../kafka';
import type { Logger } from '../logger';
import { parseKafkaMessage } from '../log/parse';
import { topicsFor } from './fanout';

export interface DiscoveryDeps {
  kafka: Pick<LogwayKafka, 'listTopics' | 'partitionOffsets'>;
  apps: { learn(appKey: string, onError?: (err: Error) => void): void };
  /** A bounded Kafka read-back of these ranges (the hub's, through its limiter). */
  readBack(ranges: PartitionRange[]): Promise<{ records: KafkaRecord[]; complete: boolean }>;
  /** The first look at a topic reads at most this many messages back per partition. */
  scanMessages: number;
  log: Logger;
}

interface TopicScan {
  /** Next offset to scan, per partition. */
  next: Map<number, number>;
  apps: Set<string>;
}

export class AppDiscovery {
  private scans = new Map<string, TopicScan>();
  private inFlight = new Map<string, Promise<TopicScan | undefined>>();

  constructor(private deps: DiscoveryDeps) {}

  /** Whether the app's space topic holds lines of it (registering every app found on the way). */
  async has(appKey: string): Promise<boolean> {
    const topic = topicsFor('app', appKey)[0];
    const known = this.scans.get(topic);
    if (known?.apps.has(appKey)) return true;
    let scan = this.inFlight.get(topic);
    if (!scan) {
      scan = this.scan(topic).finally(() => this.inFlight.delete(topic));
      this.inFlight.set(topic, scan);
    }
    return (await scan)?.apps.has(appKey) ?? false;
  }

  /** A deleted topic: a topic re-created under its name is scanned from its start. */
  forgetTopic(topic: string): void {
    this.scans.delete(topic);
  }

  private async scan(topic: string): Promise<TopicScan | undefined> {
    if (!(await this.deps.kafka.listTopics()).includes(topic)) {
      this.scans.delete(topic);
      return undefined;
    }
    const state = this.scans.get(topic) ?? { next: new Map<number, number>(), apps: new Set<string>() };
    const ranges: PartitionRange[] = [];
    const ends = new Map<number, number>();
    for (const p of await this.deps.kafka.partitionOffsets(topic)) {
      const low = Number(p.low);
      const high = Number(p.high);
      ends.set(p.partition, high);
      const from = Math.max(state.next.get(p.partition) ?? high - this.deps.scanMessages, low);
      if (from < high) ranges.push({ topic, partition: p.partition, from: String(from), to: String(high) });
    }
    if (ranges.length === 0) {
      this.scans.set(topic, state);
      return state;
    }
    const { records, complete } = await this.deps.readBack(ranges);
    const before = state.apps.size;
    for (const rec of records) {
      const parsed = parseKafkaMessage(rec);
      if (!parsed.ok || parsed.line.space === '' || state.apps.has(parsed.line.appKey)) continue;
      const app = parsed.line.appKey;
      state.apps.add(app);
      this.deps.apps.learn(app, (err) => this.deps.log.warn({ err: err.message, app }, 'could not register app; will retry'));
    }
    // A partial read (timed out, undecodable batch) is scanned again from where it began next time.
    if (complete) for (const [partition, high] of ends) state.next.set(partition, high);
    this.scans.set(topic, state);
    if (state.apps.size > before) this.deps.log.info({ topic, apps: state.apps.size - before, complete }, 'apps found in their space topic');
    return state;
  }
}
