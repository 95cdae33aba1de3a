/**
 * A log session's history and resume: answered from the app's ring when it covers the request,
 * else read back from Kafka (bounded by the node's ReadbackLimiter) up to a subscription's
 * snapshot of the hub's positions.
 */
import type { Core } from '../core';
import type { KafkaRecord, PartitionRange } from '../kafka';
import type { LogLine } from '../log/line';
import type { Logger } from '../logger';
import { parseKafkaMessage } from '../log/parse';
import { filterNewestFirst, l12Line, SlicedFilterOptions } from './filter-budget';
import type { HubPositions } from './hub-positions';
import { topicsFor, TargetKind } from './fanout';
import { parseTpKey, positionKey, Positions, tpKey } from './positions';
import type { ReadbackLimiter } from './readbacks';
import type { RingStore } from './ring';

export interface HistoryRequest {
  kind: TargetKind;
  key: string;
  lines: number;
  filter: (line: LogLine) => boolean;
  since?: number;
}

export interface HistoryOptions {
  /** Cold history reads at most this many messages back per partition. */
  historyScanMessages: number;
  /** Give up on a Kafka history read after this long (the stream goes on with what was read). */
  readTimeoutMs: number;
  /** Prefix of the read-back consumer groups. */
  groupIdPrefix: string;
  /** Filter slicing and budget (defaults: lib/log/regex FILTER_SLICE_MS, FILTER_HISTORY_BUDGET_MS). */
  filterBudget?: Pick<SlicedFilterOptions, 'budgetMs' | 'sliceMs' | 'clock' | 'yieldToLoop'>;
}

function lineBefore(line: LogLine, snapshot: Positions): boolean {
  const p = snapshot.get(positionKey(line.position));
  return p === undefined || Number(line.position.offset) < p;
}

function byTime(a: LogLine, b: LogLine): number {
  return a.time.getTime() - b.time.getTime();
}

export class HistoryReader {
  private warming = new Map<string, Promise<void>>();

  constructor(
    private core: Core,
    private positions: HubPositions,
    private rings: RingStore,
    private readbacks: ReadbackLimiter,
    private opts: HistoryOptions,
    private log: Logger,
  ) {}

  /**
   * The last `lines` lines matching the filter, strictly before `upTo` (a subscription's
   * snapshot), oldest first. From the ring when it can answer; else the ring is first filled
   * from Kafka (once per app per node), and a `since` older than that is read from Kafka.
   */
  async history(req: HistoryRequest, upTo: Positions): Promise<LogLine[]> {
    let ring = this.rings.peek(req.key);
    if (!ring?.warm) {
      await this.warm(req.kind, req.key);
      ring = this.rings.peek(req.key);
    }
    // Sorted before filtering (stable, so the same lines as filtering first), newest matches first.
    const inRing = ring
      ? ring
          .toArray()
          .filter((l) => lineBefore(l, upTo))
          .sort(byTime)
      : [];
    const fromRing = await this.filterLines(inRing, req.filter, req.lines);
    if (fromRing.exhausted || fromRing.lines.length >= req.lines || ring?.rooted || req.since === undefined) {
      return this.withNotice(req, fromRing);
    }
    // `since` reaches further back than the ring may: read from the offsets at that time.
    const from = new Map<string, number>();
    for (const topic of new Set([...upTo.keys()].map((k) => parseTpKey(k).topic))) {
      for (const o of await this.core.kafka.offsetsByTimestamp(topic, req.since)) from.set(tpKey(topic, o.partition), Number(o.offset));
    }
    if (ring && ring.covers(from)) return this.withNotice(req, fromRing);
    const lines = await this.readLines(req.key, this.ranges(from, upTo));
    return this.withNotice(req, await this.filterLines(lines.sort(byTime), req.filter, req.lines));
  }

  /**
   * Lines after a resume cursor and before `upTo`: from the ring when it covers the cursor,
   * else from Kafka. The cursor is the client's text: a position before `floor` (the session's
   * earliest possible start, see resumeFloor) is raised to it, and a partition the cursor does
   * not name starts there too (so a crafted cursor cannot rewind a session past its own start).
   * Filtered within the same budget as history: when it runs out, the newest matches are served
   * after an L12 notice.
   */
  async catchUp(
    key: string,
    cursor: Positions,
    upTo: Positions,
    filter: (l: LogLine) => boolean,
    floor: Positions = new Map(),
    kind: TargetKind = 'app',
  ): Promise<LogLine[]> {
    const from: Positions = new Map();
    for (const k of upTo.keys()) {
      const low = floor.get(k) ?? 0;
      from.set(k, Math.max(cursor.get(k) ?? low, low));
    }
    const after = (l: LogLine) => Number(l.position.offset) >= (from.get(positionKey(l.position)) ?? 0);
    const ring = this.rings.peek(key);
    const scan =
      ring && ring.covers(from)
        ? ring.toArray().filter((l) => after(l) && lineBefore(l, upTo))
        : (await this.readLines(key, this.ranges(from, upTo))).filter(after).sort(byTime);
    return this.withNotice({ key, kind }, await this.filterLines(scan, filter));
  }

  /** Filters in event-loop slices within the history budget (lib/tail/filter-budget). */
  private filterLines(lines: LogLine[], filter: (l: LogLine) => boolean, want?: number): Promise<{ lines: LogLine[]; exhausted: boolean }> {
    return filterNewestFirst(lines, filter, { ...this.opts.filterBudget, want });
  }

  /** The lines, after an L12 notice when the filter budget cut the scan short. */
  private withNotice(req: { key: string; kind: TargetKind }, r: { lines: LogLine[]; exhausted: boolean }): LogLine[] {
    if (!r.exhausted) return r.lines;
    this.log.warn({ key: req.key, served: r.lines.length }, 'log-session filter budget spent; history cut short');
    return [l12Line(req.key, new Date(), req.kind, this.opts.filterBudget?.budgetMs), ...r.lines];
  }

  /**
   * Per partition of `upTo`, the first offset whose Kafka timestamp is at or after `atMs` (the
   * high watermark if none is): no position a session streamed from can be earlier than this
   * when `atMs` is before the session was created.
   */
  async resumeFloor(upTo: Positions, atMs: number): Promise<Positions> {
    const floor: Positions = new Map();
    for (const topic of new Set([...upTo.keys()].map((k) => parseTpKey(k).topic))) {
      for (const o of await this.core.kafka.offsetsByTimestamp(topic, atMs)) floor.set(tpKey(topic, o.partition), Number(o.offset));
    }
    return floor;
  }

  /** [from, upTo) per partition, at most historyScanMessages back. */
  private ranges(from: Positions, upTo: Positions): PartitionRange[] {
    const out: PartitionRange[] = [];
    for (const [k, to] of upTo) {
      const start = Math.max(from.get(k) ?? 0, to - this.opts.historyScanMessages, 0);
      if (start >= to) continue;
      const { topic, partition } = parseTpKey(k);
      out.push({ topic, partition, from: String(start), to: String(to) });
    }
    return out;
  }

  /** Reads ranges from Kafka and keeps the lines of `key` (site lines included for a site). */
  private async readLines(key: string, ranges: PartitionRange[]): Promise<LogLine[]> {
    if (ranges.length === 0) return [];
    const { records } = await this.readBack(ranges);
    return linesOf(key, records);
  }

  /** One Kafka read-back, within the node's bound on concurrent ones (429 when its queue is full). */
  readBack(ranges: PartitionRange[]): Promise<{ records: KafkaRecord[]; complete: boolean }> {
    return this.readbacks.run(() => this.core.kafka.readRanges(ranges, { timeoutMs: this.opts.readTimeoutMs, groupIdPrefix: this.opts.groupIdPrefix }));
  }

  /**
   * Fills an app's ring from Kafka (the last historyScanMessages of each of its partitions), so
   * a cold node — just started, or one that evicted the app — serves the right history. Once per
   * app per node; concurrent sessions of one app share one read.
   */
  warm(kind: TargetKind, key: string): Promise<void> {
    let p = this.warming.get(key);
    if (!p) {
      p = this.doWarm(kind, key).finally(() => this.warming.delete(key));
      this.warming.set(key, p);
    }
    return p;
  }

  private async doWarm(kind: TargetKind, key: string): Promise<void> {
    const upTo = this.positions.snapshot(topicsFor(kind, key));
    const low = new Map<string, number>();
    for (const topic of new Set([...upTo.keys()].map((k) => parseTpKey(k).topic))) {
      for (const p of await this.core.kafka.partitionOffsets(topic)) low.set(tpKey(topic, p.partition), Number(p.low));
    }
    const ranges = this.ranges(low, upTo);
    const { records, complete } = ranges.length ? await this.readBack(ranges) : { records: [], complete: true };
    const scanned = linesOf(key, records).sort(byTime);
    const coverFrom: Positions = new Map();
    let rooted = complete;
    for (const [k, to] of upTo) {
      const start = ranges.find((r) => tpKey(r.topic, r.partition) === k);
      const from = start ? Number(start.from) : to;
      coverFrom.set(k, from);
      if (from > (low.get(k) ?? 0)) rooted = false;
    }
    const ring = this.rings.touch(key, () => new Map());
    // Lines the hub processed while we read are in the ring already, at or after `upTo`.
    const newer = ring.toArray().filter((l) => !lineBefore(l, upTo));
    this.rings.replace(ring, [...scanned, ...newer], coverFrom, rooted);
    ring.warm = true;
  }
}

/** The lines of `key` among read-back records (an app's lines, or a site's rendering of router lines). */
function linesOf(key: string, records: KafkaRecord[]): LogLine[] {
  const out: LogLine[] = [];
  for (const rec of records) {
    const parsed = parseKafkaMessage(rec);
    if (!parsed.ok) continue;
    if (parsed.line.appKey === key) out.push(parsed.line);
    else if (parsed.siteLine?.appKey === key) out.push(parsed.siteLine);
  }
  return out;
}
