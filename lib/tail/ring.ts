/**
 * The hub's recent lines per app (or site): a bounded ring per key, and an LRU over keys with
 * an overall memory cap, so history is served without touching Kafka on a warm node.
 *
 * A ring is always a contiguous suffix of the key's lines in the order the hub processed them.
 * `coverFrom` says from which position on each partition the ring holds every line of the key
 * (so a request for "everything after position Q" can be answered from the ring when
 * coverFrom ≤ Q); `rooted` says it holds everything Kafka still has.
 */
import type { LogLine } from '../log/line';
import { positionKey, Positions } from './positions';

/** Rough heap cost of a line: two-byte strings plus the object, its Date and position. */
export function estimateLineBytes(line: LogLine): number {
  return 2 * (line.message.length + line.dyno.length + line.appKey.length + line.source.length) + 360;
}

export class AppRing {
  /** Circular storage; `start` is the oldest, `size` lines are held. */
  private buf: (LogLine | undefined)[];
  private start = 0;
  size = 0;
  bytes = 0;
  coverFrom: Positions;
  rooted = false;
  /** Filled from Kafka at least once on this node (see Hub.warm). */
  warm = false;
  /** The partition of the last dropped line and its position key. */
  private dropTopic = '';
  private dropPartition = -1;
  private dropKey = '';

  constructor(
    public readonly key: string,
    public readonly capacity: number,
    coverFrom: Positions,
  ) {
    this.buf = new Array(Math.min(capacity, 64));
    this.coverFrom = new Map(coverFrom);
  }

  push(line: LogLine): number {
    let freed = 0;
    if (this.size === this.capacity) freed = this.dropOldest();
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.start + this.size) % this.buf.length] = line;
    this.size++;
    const b = estimateLineBytes(line);
    this.bytes += b;
    return b - freed;
  }

  private grow(): void {
    const next: (LogLine | undefined)[] = new Array(Math.min(this.capacity, this.buf.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.start + i) % this.buf.length];
    this.buf = next;
    this.start = 0;
  }

  /** Drops the oldest line; the ring then covers its partition only from the next offset. */
  dropOldest(): number {
    if (this.size === 0) return 0;
    const line = this.buf[this.start]!;
    this.buf[this.start] = undefined;
    this.start = (this.start + 1) % this.buf.length;
    this.size--;
    const p = line.position;
    // An app's lines mostly come from one partition (Kafka key = app): its key string is reused.
    if (p.topic !== this.dropTopic || p.partition !== this.dropPartition) {
      this.dropTopic = p.topic;
      this.dropPartition = p.partition;
      this.dropKey = positionKey(p);
    }
    const next = Number(p.offset) + 1;
    if ((this.coverFrom.get(this.dropKey) ?? -1) < next) this.coverFrom.set(this.dropKey, next);
    this.rooted = false;
    const b = estimateLineBytes(line);
    this.bytes -= b;
    return b;
  }

  /** Oldest first. */
  toArray(): LogLine[] {
    const out = new Array<LogLine>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.buf[(this.start + i) % this.buf.length]!;
    return out;
  }

  /** Replaces the content (after a Kafka back-fill); returns the change in bytes. */
  replace(lines: LogLine[], coverFrom: Positions, rooted: boolean): number {
    const before = this.bytes;
    this.buf = new Array(Math.max(64, Math.min(this.capacity, lines.length)));
    this.start = 0;
    this.size = 0;
    this.bytes = 0;
    this.coverFrom = new Map(coverFrom);
    this.rooted = rooted;
    const skip = Math.max(0, lines.length - this.capacity);
    for (let i = 0; i < skip; i++) {
      const key = positionKey(lines[i].position);
      const next = Number(lines[i].position.offset) + 1;
      if ((this.coverFrom.get(key) ?? -1) < next) this.coverFrom.set(key, next);
      this.rooted = false;
    }
    for (let i = skip; i < lines.length; i++) this.push(lines[i]);
    return this.bytes - before;
  }

  /** True when the ring holds every line of its key at or after `from` on each listed partition. */
  covers(from: Positions): boolean {
    for (const [key, offset] of from) {
      const c = this.coverFrom.get(key);
      if (c === undefined || c > offset) return false;
    }
    return true;
  }
}

export class RingStore {
  /** Map iteration order is insertion order: re-inserting on use makes the first entry the LRU. */
  private rings = new Map<string, AppRing>();
  private bytes = 0;

  constructor(private readonly opts: { linesPerApp: number; maxBytes: number }) {}

  get totalBytes(): number {
    return this.bytes;
  }

  forEach(fn: (ring: AppRing) => void): void {
    for (const ring of this.rings.values()) fn(ring);
  }

  peek(key: string): AppRing | undefined {
    return this.rings.get(key);
  }

  /** The ring for `key`, marked most recently used; created (covering from `coverFrom`) if missing. */
  touch(key: string, coverFrom: (key: string) => Positions): AppRing {
    let ring = this.rings.get(key);
    if (ring) {
      this.rings.delete(key);
    } else {
      ring = new AppRing(key, this.opts.linesPerApp, coverFrom(key));
    }
    this.rings.set(key, ring);
    return ring;
  }

  /** `coverFrom` is asked with the key only when the ring is new (one function for all keys: no closure per line). */
  push(key: string, line: LogLine, coverFrom: (key: string) => Positions): void {
    const ring = this.touch(key, coverFrom);
    this.bytes += ring.push(line);
    this.evict(ring);
  }

  replace(ring: AppRing, lines: LogLine[], coverFrom: Positions, rooted: boolean): void {
    this.bytes += ring.replace(lines, coverFrom, rooted);
    this.evict(ring);
  }

  /** Drops the rings whose key `gone` says (their topics stopped being read: they would miss lines). */
  dropWhere(gone: (key: string) => boolean): void {
    for (const [key, ring] of this.rings) {
      if (!gone(key)) continue;
      this.rings.delete(key);
      this.bytes -= ring.bytes;
    }
  }

  /** Least recently used rings go first; the ring just written is kept (it shrinks instead). */
  private evict(keep: AppRing): void {
    if (this.bytes <= this.opts.maxBytes) return;
    for (const [key, ring] of this.rings) {
      if (this.bytes <= this.opts.maxBytes) return;
      if (ring === keep) continue;
      this.rings.delete(key);
      this.bytes -= ring.bytes;
    }
    while (this.bytes > this.opts.maxBytes && keep.size > 0) this.bytes -= keep.dropOldest();
  }
}
