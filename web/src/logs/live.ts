/**
 * A live tail through a log session (SSE). EventSource resends Last-Event-ID by itself after a
 * dropped connection, and the server resumes after it (no gap, no repeat). Ids are not unique per
 * line (a history batch shares one), so they are not a dedupe key. When the session URL
 * can no longer be opened (expired, node refused it), a new session starts at the last line's
 * time, and the lines already shown from that instant on are dropped as they come again.
 */
import { api, ApiError, sameOrigin, type Schemas } from '../api';
import { Line, parseLine } from './line';

export interface SessionFilters {
  dyno?: string;
  source?: string;
  since?: string;
  filter?: string;
}

export type LogSession = Schemas['LogSession'];

const MAX_LINES_MESSAGE = /\((\d+) is the maximum\)/;
let maxLines = 250;

/** POST /{apps|sites}/:key/log-sessions; a node configured below 250 lines says its maximum, and we ask again with it. */
export async function createSession(kind: 'apps' | 'sites', key: string, body: Record<string, unknown>): Promise<LogSession> {
  const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== ''));
  try {
    return await api<LogSession>('POST', `/${kind}/${encodeURIComponent(key)}/log-sessions`, { lines: maxLines, ...clean });
  } catch (e) {
    const m = e instanceof ApiError && e.status === 422 ? MAX_LINES_MESSAGE.exec(e.message) : null;
    if (!m || Number(m[1]) >= maxLines) throw e;
    maxLines = Number(m[1]);
    return api<LogSession>('POST', `/${kind}/${encodeURIComponent(key)}/log-sessions`, { lines: maxLines, ...clean });
  }
}

export class LiveTail {
  private es?: EventSource;
  private stopped = false;
  /** After a new session from `since`: texts already shown at or after that instant, with counts. */
  private overlap = new Map<string, number>();
  private overlapUntil = -Infinity;
  private lastTime = NaN;
  private retryTimer = 0;
  sessions = 0;

  constructor(
    private kind: 'apps' | 'sites',
    private key: string,
    private filters: SessionFilters,
    private onLine: (l: Line) => void,
    private onState: (state: 'connecting' | 'live' | 'reconnecting' | 'error', detail?: string) => void,
    /** The lines already held, newest last (for the overlap after a new session). */
    private recent: () => Iterable<Line>,
  ) {}

  async start(): Promise<void> {
    this.onState('connecting');
    const s = await createSession(this.kind, this.key, { tail: true, ...this.filters });
    this.open(s);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.es?.close();
  }

  private open(s: LogSession): void {
    if (this.stopped) return;
    this.sessions++;
    const es = new EventSource(sameOrigin(s.logplex_url));
    this.es = es;
    es.onopen = () => this.onState('live');
    es.onmessage = (e: MessageEvent<string>) => this.receive(e.lastEventId, e.data);
    es.onerror = () => {
      if (this.stopped || es !== this.es) return;
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.renew(1000);
      } else this.onState('reconnecting');
    };
  }

  private receive(id: string, data: string): void {
    // No dedupe by id within a session: history and resume catch-up lines all carry the session's
    // starting cursor (lib/tail/session.ts), and the server resumes after Last-Event-ID without a repeat.
    const line = parseLine(id, data);
    if (this.overlap.size && !(line.time > this.overlapUntil)) {
      const n = this.overlap.get(data);
      if (n) {
        if (n === 1) this.overlap.delete(data);
        else this.overlap.set(data, n - 1);
        return;
      }
    }
    if (!Number.isNaN(line.time) && !(line.time < this.lastTime)) this.lastTime = line.time;
    this.onLine(line);
  }

  /** The session URL cannot be reopened: a new session from the last line's time, duplicates dropped. */
  private renew(delayMs: number): void {
    this.onState('reconnecting', 'starting a new log session');
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(async () => {
      if (this.stopped) return;
      const since = Number.isNaN(this.lastTime) ? this.filters.since : new Date(this.lastTime).toISOString();
      this.overlap.clear();
      if (!Number.isNaN(this.lastTime)) {
        this.overlapUntil = this.lastTime;
        for (const l of this.recent()) {
          if (l.time >= this.lastTime) this.overlap.set(l.text, (this.overlap.get(l.text) ?? 0) + 1);
        }
      }
      try {
        const s = await createSession(this.kind, this.key, { tail: true, ...this.filters, since });
        this.open(s);
      } catch (e) {
        this.onState('error', (e as Error).message);
        this.renew(Math.min(10_000, delayMs * 2));
      }
    }, delayMs);
  }
}
