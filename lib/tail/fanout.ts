/**
 * The hub's fan-out: each line the hub reads goes into its app's (or site's) recent-lines ring
 * and to the open sessions of that app whose filter takes it. A session is a map entry here; the
 * number of Kafka consumers never grows with the number of sessions.
 */
import { DEFAULT_SPACE, splitAppKey } from '../apps';
import type { LogLine } from '../log/line';
import { ROUTER_TOPIC, BUILD_TOPIC } from '../log/parse';
import type { Positions } from './positions';
import type { RingStore } from './ring';

export type TargetKind = 'app' | 'site';

export interface Subscriber {
  filter: (line: LogLine) => boolean;
  accept(line: LogLine): void;
}

/** The topics an app's lines come from: its space, the router topic, the build topic. Sites: router only. */
export function topicsFor(kind: TargetKind, key: string): string[] {
  if (kind === 'site') return [ROUTER_TOPIC];
  const parts = splitAppKey(key, { defaultSpace: DEFAULT_SPACE });
  return parts ? [parts.space, ROUTER_TOPIC, BUILD_TOPIC] : [ROUTER_TOPIC, BUILD_TOPIC];
}

export class Fanout {
  private subscribers = new Map<string, Set<Subscriber>>();

  /** Where a new ring of an app or a site starts covering from: made once, not per line. */
  private coverFrom: Record<TargetKind, (key: string) => Positions>;

  constructor(
    private rings: RingStore,
    /** The positions a new ring starts covering from (the hub's, now). */
    snapshot: (topics: string[]) => Positions,
  ) {
    this.coverFrom = { app: (key) => snapshot(topicsFor('app', key)), site: (key) => snapshot(topicsFor('site', key)) };
  }

  deliver(line: LogLine, kind: TargetKind): void {
    this.rings.push(line.appKey, line, this.coverFrom[kind]);
    const subs = this.subscribers.get(line.appKey);
    if (!subs) return;
    for (const s of subs) if (s.filter(line)) s.accept(line);
  }

  add(key: string, sub: Subscriber): void {
    let set = this.subscribers.get(key);
    if (!set) this.subscribers.set(key, (set = new Set()));
    set.add(sub);
  }

  remove(key: string, sub: Subscriber): void {
    const set = this.subscribers.get(key);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.subscribers.delete(key);
  }
}
