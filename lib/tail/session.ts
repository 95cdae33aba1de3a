/**
 * One open log-session stream: the bounded per-session buffer between the hub and the socket.
 *
 * The hub calls accept() synchronously for every matching line and never waits: lines queue
 * here and are written once per event-loop turn (one write per client per tick, however many
 * lines arrived), in chunks of at most FLUSH_CHUNK_BYTES. When the socket pushes back
 * (res.write returns false) the session stops writing until 'drain'. What a session holds —
 * its queue plus what the socket has not sent yet — stays within its byte budget on every write,
 * the first included, and within the node's (./stream-limits) while the client is behind; a line
 * past either is dropped and counted, and once the client has caught up it gets Heroku's L11
 * line saying how many it lost.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { LogLine } from '../log/line';
import { sseComment, l11Line } from '../log/format';
import { encodeCursor, Positions } from './positions';
import { CursorParts } from './cursor-parts';
import { FlushScheduler } from './flush-scheduler';
import { akkerisTextLine, ndjson, positionKeyOf, positionPart, sseBody } from './line-renderings';
import type { Subscriber } from './hub';
import type { TailMetrics } from './metrics';
import { renderClosing, StreamEnding, StreamFormat } from './closing';
import { LiveFilterBudget } from './filter-budget';
import type { LineFilter } from '../log/filter';
import type { StreamLimits } from './stream-limits';

export type { StreamFormat };
export { FlushScheduler };

export interface TailSessionOptions {
  format: StreamFormat;
  /** App key or site: the L11 line is written as this app's. */
  key: string;
  kind?: 'app' | 'site';
  /** A filter marked `usesRegex` (compileFilter) is timed: see liveFilterBudget. */
  filter: LineFilter;
  /**
   * The filter time this session may use (default lib/log/regex FILTER_LIVE_BUDGET_MS within any
   * FILTER_LIVE_WINDOW_MS); past it the session ends with a `filter_too_expensive` closing line.
   */
  liveFilterBudget?: LiveFilterBudget;
  /** Live lines held for a client that is not keeping up (its socket pushes back), before dropping. */
  maxBufferedLines: number;
  /**
   * Bytes of rendered lines held the same way (config.sessionBufferBytes): the line budget alone
   * lets 1,000 lines of 100 KB each pile up. Measured as string length (bytes for ASCII text).
   */
  maxBufferedBytes?: number;
  metrics: TailMetrics;
  /** Called once when the stream ends for any reason. */
  onClose: () => void;
  /** Shared write coalescing (default: once per event-loop turn). */
  scheduler?: FlushScheduler;
  /** Appended to every SSE id (the session's resume tag, `~<hmac>`). */
  idSuffix?: string;
  /** What all the node's streams may hold together. */
  limits?: StreamLimits;
}

const defaultScheduler = new FlushScheduler(0);
/** The most one write hands the socket: a large queue (history) goes out as the client reads it. */
export const FLUSH_CHUNK_BYTES = 256 * 1024;
/** A queue this large (or half the session's budget) is written at once rather than at the end of the tick. */
const EARLY_FLUSH_BYTES = 64 * 1024;

export class TailSession implements Subscriber {
  readonly filter: (line: LogLine) => boolean;
  private pending: string[] = [];
  /** Log lines in each pending item (0 for an L11 line). */
  private pendingCounts: number[] = [];
  private pendingLines = 0;
  /** What this session last told the node's limits it holds. */
  private accounted = 0;
  private pendingBytes = 0;
  /** Live lines wait until the history has been written. */
  private holding = true;
  private blocked = false;
  /**
   * Blocked by a write made in the middle of a burst (the queue reached earlyFlushBytes): any
   * write of 16 KiB or more reports a full socket until it drains, which says nothing yet about
   * the client, so only the byte budget applies until then.
   */
  private blockedByBurst = false;
  private scheduled = false;
  private dropped = 0;
  private droppedSince?: Date;
  /**
   * SSE only: where the session starts (its subscription snapshot) and the position after the
   * last queued line. Text and NDJSON sessions keep neither (a few hundred bytes each, times
   * thousands of sessions).
   */
  private start?: Positions;
  private cursor?: CursorParts;
  /** Epoch ms after which the stream ends (the feature's ticker enforces it). */
  deadline = Infinity;
  private closed = false;
  private ending = false;
  /** Why logway ends the stream (shutdown, max duration): said in a last line before the end. */
  private endingWhy?: StreamEnding;
  private lastWrite = Date.now();
  /** The live filter went over its budget: the session ends (after its history if still holding). */
  private tooExpensive = false;

  private readonly earlyFlushBytes: number;

  constructor(
    private res: ServerResponse,
    private opts: TailSessionOptions,
  ) {
    this.earlyFlushBytes = Math.min(EARLY_FLUSH_BYTES, (opts.maxBufferedBytes ?? Infinity) / 2);
    this.filter = opts.filter.usesRegex ? this.timed(opts.filter, opts.liveFilterBudget ?? new LiveFilterBudget()) : opts.filter;
    res.on('close', () => this.close());
  }

  /**
   * The hub runs every session's filter on its one thread: a regex filter is timed (only those
   * can be costly) and the session ends once it spends more than its budget.
   */
  private timed(test: LineFilter, budget: LiveFilterBudget): (line: LogLine) => boolean {
    return (line) => {
      if (this.closed || this.ending || this.tooExpensive) return false;
      const t0 = performance.now();
      const ok = test(line);
      const t1 = performance.now();
      if (!budget.add(t1 - t0, t1)) return ok;
      this.tooExpensive = true;
      // While the history loads nothing may be written: the session ends once it is released.
      if (!this.holding) this.end(undefined, { reason: 'filter_too_expensive' });
      return false;
    };
  }

  /** The positions separating history from live (the hub subscription's snapshot). */
  begin(start: Positions): void {
    if (this.opts.format !== 'sse') return;
    this.start = start;
    this.cursor = new CursorParts(start);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get format(): StreamFormat {
    return this.opts.format;
  }

  /** Rendered text queued and not yet written (what the byte budget bounds). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** The SSE resume cursor after everything queued so far. */
  get cursorId(): string {
    return this.cursor ? this.cursor.toString() : '';
  }

  private render(line: LogLine, id?: string): string {
    switch (this.opts.format) {
      case 'sse':
        // Cursor ids never contain CR, LF or NUL (see positions.ts), so no cleaning is needed.
        return `id: ${id ?? this.cursorId}${this.opts.idSuffix ?? ''}\n${sseBody(line)}`;
      case 'ndjson':
        return ndjson(line);
      default:
        return akkerisTextLine(line);
    }
  }

  /** From the hub: a live line that matched this session's filters. Never blocks. */
  accept(line: LogLine): void {
    if (this.closed || this.ending) return;
    if (!this.fits(line)) {
      if (this.dropped === 0) this.droppedSince = new Date();
      this.dropped++;
      this.opts.metrics.linesDropped.inc();
      return;
    }
    if (this.cursor) {
      this.cursor.set(positionKeyOf(line), positionPart(line));
    }
    const text = this.render(line);
    this.pending.push(text);
    this.pendingCounts.push(1);
    this.pendingLines++;
    this.pendingBytes += text.length;
    if (this.pendingBytes >= this.earlyFlushBytes && !this.holding && !this.blocked) {
      this.flush();
      if (this.blocked) this.blockedByBurst = true;
    } else {
      this.schedule();
      this.sync();
    }
  }

  /** Bytes this session holds: its queue and what its socket has not sent yet. */
  get held(): number {
    return this.pendingBytes + this.res.writableLength;
  }

  /** Tells the node's limits what this session holds now. */
  private sync(): void {
    if (!this.opts.limits) return;
    const held = this.closed ? 0 : this.held;
    this.opts.limits.adjust(held - this.accounted);
    this.accounted = held;
  }

  /**
   * Whether one more line stays within the budgets: the session's bytes always (queued and unsent
   * alike, so no write can take more); its line count and the node's bytes while the client is
   * behind (the socket pushes back, unsent bytes wait, or the history is still loading). The
   * renderings it measures are the shared per-line ones (the SSE id is the current cursor's
   * length, which the line changes by a digit or so).
   */
  private fits(line: LogLine): boolean {
    const behind = this.blocked || this.holding;
    if ((this.holding || (this.blocked && !this.blockedByBurst)) && this.pendingLines >= this.opts.maxBufferedLines) return false;
    const max = this.opts.maxBufferedBytes;
    if (max === undefined && !(behind && this.opts.limits)) return true;
    let size: number;
    switch (this.opts.format) {
      case 'sse':
        size = 5 + this.cursorId.length + (this.opts.idSuffix?.length ?? 0) + sseBody(line).length;
        break;
      case 'ndjson':
        size = ndjson(line).length;
        break;
      default:
        size = akkerisTextLine(line).length;
    }
    if (max !== undefined && this.held + size > max) return false;
    return !behind || !this.opts.limits || this.opts.limits.fits(size);
  }

  /**
   * History (or resume catch-up) goes before any live line queued meanwhile, all with the
   * session's starting cursor as id: resuming after any of them replays no history.
   */
  release(history: LogLine[]): void {
    if (this.closed) return;
    if (history.length) {
      const id = this.start ? encodeCursor(this.start) : '';
      const texts = history.map((line) => this.render(line, id));
      this.pending.unshift(...texts);
      this.pendingCounts.unshift(...texts.map(() => 1));
      this.pendingLines += history.length;
      this.pendingBytes += texts.reduce((n, t) => n + t.length, 0);
    }
    this.holding = false;
    this.flush();
    if (this.tooExpensive) this.end(undefined, { reason: 'filter_too_expensive' });
  }

  private schedule(): void {
    if (this.scheduled || this.holding || this.blocked) return;
    this.scheduled = true;
    (this.opts.scheduler ?? defaultScheduler).add(this);
  }

  /**
   * Writes what is queued, a chunk at a time while the socket takes it (called by the scheduler,
   * on release and on drain); what is left waits for 'drain'.
   */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.holding || this.blocked) return;
    if (this.dropped > 0 && this.droppedSince) {
      const l11 = this.render(l11Line(this.opts.key, this.dropped, this.droppedSince, new Date(), this.opts.kind));
      this.pending.push(l11);
      this.pendingCounts.push(0);
      this.pendingBytes += l11.length;
      this.dropped = 0;
      this.droppedSince = undefined;
    }
    while (this.pending.length > 0 && !this.blocked && !this.closed) {
      let chunk = '';
      let lines = 0;
      let items = 0;
      while (items < this.pending.length && (items === 0 || chunk.length + this.pending[items].length <= FLUSH_CHUNK_BYTES)) {
        chunk += this.pending[items];
        lines += this.pendingCounts[items];
        items++;
      }
      this.pending.splice(0, items);
      this.pendingCounts.splice(0, items);
      this.pendingLines -= lines;
      this.pendingBytes -= chunk.length;
      if (lines) this.opts.metrics.linesDelivered.inc(lines);
      this.write(chunk);
    }
    this.sync();
  }

  private write(chunk: string): void {
    this.lastWrite = Date.now();
    if (!this.res.write(chunk)) {
      this.blocked = true;
      this.res.once('drain', () => {
        this.blocked = false;
        this.blockedByBurst = false;
        if (this.ending) this.finish();
        else this.flush();
      });
    }
  }

  /**
   * Called by the feature's ticker: ends the stream at its deadline; for SSE clients (and
   * proxies) writes `: keepalive` when nothing was written for a while.
   */
  keepalive(idleMs: number, now = Date.now()): void {
    if (now >= this.deadline) return this.end(undefined, { reason: 'max_duration' });
    // While history loads (holding) nothing may be written: the response headers are not set yet.
    if (this.closed || this.ending || this.blocked || this.holding || this.opts.format !== 'sse') return;
    if (now - this.lastWrite >= idleMs) this.write(sseComment('keepalive'));
  }

  /**
   * Ends the response cleanly after what is queued (history without tail, max duration, shutdown);
   * with `why`, a closing line in the stream's format says why (lib/tail/closing).
   */
  end(drainTimeoutMs = 10_000, why?: StreamEnding): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.endingWhy = why;
    if (!this.blocked) return this.finish();
    // A client that stopped reading altogether cannot be ended politely.
    setTimeout(() => {
      if (!this.closed) {
        this.res.destroy();
        this.close();
      }
    }, drainTimeoutMs).unref();
  }

  private finish(): void {
    if (this.closed) return;
    // Still holding: the history was not written, nor the headers; there is no stream to close politely.
    const started = !this.holding;
    this.holding = false;
    let chunk = this.pending.join('');
    if (this.dropped > 0 && this.droppedSince) {
      chunk += this.render(l11Line(this.opts.key, this.dropped, this.droppedSince, new Date(), this.opts.kind));
      this.dropped = 0;
    }
    if (this.endingWhy && started) chunk += renderClosing(this.opts.format, this.opts.key, this.opts.kind ?? 'app', this.endingWhy);
    if (this.pendingLines) this.opts.metrics.linesDelivered.inc(this.pendingLines);
    this.pending = [];
    this.pendingCounts = [];
    this.pendingLines = 0;
    this.pendingBytes = 0;
    this.res.end(chunk);
    this.close();
  }

  /** Drops the session without writing (the response was never started, e.g. history failed). */
  abort(): void {
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.pendingCounts = [];
    this.pendingBytes = 0;
    this.sync();
    this.opts.onClose();
  }
}
