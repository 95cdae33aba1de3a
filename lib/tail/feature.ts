/**
 * The log-session feature (docs/design.md §3 "Log sessions"): session creation, the stream URL and the
 * tail hub behind them. Its routes (routes/log-sessions.ts, and routes/apps.ts so the Heroku CLI
 * can be pointed at logway) are wired by the composition root, bin/wiring.ts.
 */
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Core, Feature } from '../core';
import { NotFound, TooManyRequests } from '../errors';
import { compileFilter } from '../log/filter';
import { compileLogRegex } from '../log/regex';
import { sseRetry } from '../log/format';
import { TailHub, HubOptions, topicsFor } from './hub';
import { TailSession, StreamFormat, FlushScheduler } from './session';
import { StreamLimits } from './stream-limits';
import { jitteredRetryMs } from './closing';
import { decodeCursor } from './positions';
import { signSessionToken, verifySessionToken, SessionClaims, OPEN_WINDOW_SECONDS, resumeTag, taggedCursor, streamDeadline } from './token';
import { newNonce, readSessionId, sessionId, SessionTarget } from './session-id';
import { SessionRevocations } from './revocations';

export interface TailFeatureOptions extends HubOptions {
  /** SSE `: keepalive` after this long without a write (default 15 s). */
  keepaliveMs?: number;
  /** The SSE `retry:` hint (default 3 s). */
  retryMs?: number;
  /** The SSE `retry:` sent with the shutdown closing event: uniform in [min, max] ms per stream (default 1,000–5,000). */
  shutdownRetryMs?: [number, number];
  /** Live lines a session holds for a slow client before dropping (default 1,000). */
  sessionBufferLines?: number;
  /** Bytes of rendered lines a session holds for a slow client before dropping (default config.sessionBufferBytes, 1 MiB). */
  sessionBufferBytes?: number;
  /** Longest a stream lives (default config.maxStreamSeconds, 1 h). */
  maxStreamSeconds?: number;
  /** How long a logplex_url can be opened (default 300 s). */
  openWindowSeconds?: number;
  /** How long a stream that was ended may still be resumed by Last-Event-ID past the open window (default: the max stream duration). */
  resumeGraceSeconds?: number;
  /**
   * At most one write per session per this many ms (default 0: once per event-loop turn). A line
   * after a quiet spell is written on the next turn either way. 20 ms did not lower the p99 at 20k
   * lines/s to 1,000 SSE sessions on 2 shared cores, and doubled the p50 at 5k lines/s.
   */
  flushIntervalMs?: number;
  /** Streams open at once per app or site on this node (default config.maxStreamsPerApp, 50). */
  maxStreamsPerApp?: number;
  /** Streams open at once on this node (default config.maxStreams). */
  maxStreams?: number;
  /** Bytes all streams of this node may queue for slow clients (default config.streamsBufferBytes). */
  streamsBufferBytes?: number;
  /** Streams open at once per session on this node (default config.maxStreamsPerSession, 5). */
  maxStreamsPerSession?: number;
  /** How often revocations are re-read from PostgreSQL besides LISTEN (default 3 s). */
  revocationRefreshMs?: number;
  /**
   * A resume cursor may reach back to the first offset stamped at or after the token's issue time
   * minus this slack (hub lag, producer clock skew), and no further (default 300 s).
   */
  resumeSlackSeconds?: number;
}

export interface LogSession {
  created_at: string;
  id: string;
  logplex_url: string;
  updated_at: string;
}

export interface TailFeature extends Feature {
  name: 'tail';
  hub: TailHub;
  /** Open streams on this node. */
  sessions: Set<TailSession>;
  createSession(claims: SessionClaims): LogSession;
  /**
   * Serves a logplex_url (`GET /log-sessions/<token>`) on a plain node request: from the Express
   * route, or from ./stream-route ahead of Express. `format` is the `?format=` query value.
   */
  openStream(req: IncomingMessage, res: ServerResponse, token: string, format?: unknown): Promise<void>;
  /** The app or site a session id names, or null for an id logway did not mint (./session-id). */
  sessionTarget(id: string): SessionTarget | null;
  /** Revokes a session on every node (docs/security.md "Revoking a session"); answers when it was first revoked. */
  revokeSession(target: SessionTarget): Promise<Date>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const SESSION_NOT_FOUND = 'The specified log session was not found or has expired.';
/** Seconds a client refused by a stream limit is told to wait (Retry-After). */
export const STREAM_RETRY_AFTER_SECONDS = 5;
export const tooManyStreams = (kind: 'app' | 'site', max: number) =>
  new TooManyRequests(
    `Too many log streams are open for this ${kind === 'site' ? 'site' : 'application'} (${max}); close one or retry later.`,
    STREAM_RETRY_AFTER_SECONDS,
  );
export const tooManySessionStreams = (max: number) =>
  new TooManyRequests(`Too many streams are open for this log session (${max}); close one or retry later.`, STREAM_RETRY_AFTER_SECONDS);

/** `?format=json` or `Accept: application/x-ndjson` → NDJSON; `text/event-stream` → SSE; else text. */
export function negotiateFormat(accept: string | undefined, format: unknown): StreamFormat {
  const a = (accept ?? '').toLowerCase();
  if (format === 'json' || format === 'ndjson' || a.includes('application/x-ndjson')) return 'ndjson';
  if (a.includes('text/event-stream')) return 'sse';
  return 'text';
}

const CONTENT_TYPES: Record<StreamFormat, string> = {
  text: 'text/plain; charset=utf-8',
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** A request header as Express's `req.get` gives it (node joins repeated ones; set-cookie aside). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function createTailFeature(core: Core, opts: TailFeatureOptions = {}): TailFeature {
  const hub = new TailHub(core, opts);
  const sessions = new Set<TailSession>();
  const keepaliveMs = opts.keepaliveMs ?? 15_000;
  const retryMs = opts.retryMs ?? 3_000;
  const [shutdownRetryMin, shutdownRetryMax] = opts.shutdownRetryMs ?? [1_000, 5_000];
  const bufferLines = opts.sessionBufferLines ?? 1_000;
  const bufferBytes = opts.sessionBufferBytes ?? core.config.sessionBufferBytes;
  const maxStreamMs = (opts.maxStreamSeconds ?? core.config.maxStreamSeconds) * 1000;
  const openWindow = opts.openWindowSeconds ?? OPEN_WINDOW_SECONDS;
  const resumeGrace = opts.resumeGraceSeconds ?? Math.ceil(maxStreamMs / 1000);
  const maxStreams = opts.maxStreamsPerApp ?? core.config.maxStreamsPerApp;
  const limits = new StreamLimits(opts.maxStreams ?? core.config.maxStreams, opts.streamsBufferBytes ?? core.config.streamsBufferBytes);
  const maxSessionStreams = opts.maxStreamsPerSession ?? core.config.maxStreamsPerSession;
  const resumeSlackMs = (opts.resumeSlackSeconds ?? 300) * 1000;
  /** Open streams per app key or site (MAX_STREAMS_PER_APP); a closed stream frees its slot in its close handler. */
  const streamsOpen = new Map<string, number>();
  // KeyObjects once, instead of jsonwebtoken converting the strings on every sign/verify. The first signs.
  const secrets = (core.config.sessionSecrets ?? [core.config.sessionSecret]).map((s) => crypto.createSecretKey(Buffer.from(s, 'utf8')));
  const secret = secrets[0];
  /** Open streams per session (by its nonce; a token from before session ids, by its text). */
  const sessionStreams = new Map<string, Set<TailSession>>();
  /** Streams still reading their history: a revocation meanwhile is answered 404 once it is read. */
  const loading = new WeakSet<TailSession>();
  const revocations = new SessionRevocations(core.db, {
    refreshMs: opts.revocationRefreshMs,
    onRevoked: (nonce) => {
      for (const s of sessionStreams.get(nonce) ?? []) if (!loading.has(s)) s.end(undefined, { reason: 'revoked' });
    },
  });
  const scheduler = new FlushScheduler(opts.flushIntervalMs ?? 0);
  let ticker: NodeJS.Timeout | undefined;
  let stopping = false;

  function createSession(claims: SessionClaims): LogSession {
    const nonce = newNonce();
    const token = signSessionToken({ ...claims, nonce }, secret, { openWindowSeconds: openWindow });
    const now = new Date().toISOString();
    const id = sessionId({ kind: claims.kind, key: claims.key, nonce }, secret);
    return { created_at: now, id, logplex_url: `${core.config.publicUrl}/log-sessions/${token}`, updated_at: now };
  }

  async function revokeSession(target: SessionTarget): Promise<Date> {
    // Past this no stream of the session can be opened or resumed, wherever and whenever it was created.
    const expiresAt = new Date(Date.now() + (openWindow + Math.max(resumeGrace, maxStreamMs / 1000)) * 1000);
    return revocations.revoke(target.nonce, expiresAt);
  }

  async function openStream(req: IncomingMessage, res: ServerResponse, token: string, formatParam?: unknown): Promise<void> {
    const format = negotiateFormat(header(req, 'accept'), formatParam);
    const verified = verifySessionToken(token, secrets, { graceSeconds: resumeGrace });
    if (!verified || stopping) throw new NotFound(SESSION_NOT_FOUND);
    // Tags are made with the secret that signed the token, so a rotation keeps resumes working.
    const resumeFrom = format === 'sse' ? decodeCursor(taggedCursor(header(req, 'last-event-id'), token, verified.secret) ?? undefined) : null;
    // Only a client resuming an SSE stream (Last-Event-ID tagged for this session) may come back after the open window.
    if (!resumeFrom && Date.now() >= verified.exp * 1000) throw new NotFound(SESSION_NOT_FOUND);
    const { claims } = verified;
    const sessionKey = claims.nonce ?? token;
    if (claims.nonce !== undefined && revocations.has(claims.nonce)) throw new NotFound(SESSION_NOT_FOUND);
    const topics = topicsFor(claims.kind, claims.key);
    const filter = compileFilter({
      dyno: claims.dyno,
      type: claims.type,
      source: claims.source,
      since: claims.since !== undefined ? new Date(claims.since) : undefined,
      regex: claims.filter !== undefined ? compileLogRegex(claims.filter, core.config.maxFilterLength) : undefined,
    });

    // This node reads the session's topics from now until it closes (and a linger after).
    // (A refused stream's topics are read already: the open streams of its app hold them.)
    const release = await hub.need(topics);
    if (res.destroyed) return release();
    // The limits, checked after the wait so streams opened meanwhile count; from the last of
    // them on, the session's onClose gives everything back.
    const ofSession = sessionStreams.get(sessionKey);
    const open = streamsOpen.get(claims.key) ?? 0;
    try {
      if ((ofSession?.size ?? 0) >= maxSessionStreams) {
        hub.metrics.sessionsRefused.inc({ reason: 'streams_per_session' });
        throw tooManySessionStreams(maxSessionStreams);
      }
      if (open >= maxStreams) {
        hub.metrics.sessionsRefused.inc({ reason: 'streams_per_app' });
        throw tooManyStreams(claims.kind, maxStreams);
      }
      try {
        limits.admit();
      } catch (err) {
        hub.metrics.sessionsRefused.inc({ reason: 'node_limits' });
        throw err;
      }
    } catch (err) {
      release();
      throw err;
    }
    const session = new TailSession(res, {
      format,
      key: claims.key,
      kind: claims.kind,
      idSuffix: format === 'sse' ? `~${resumeTag(token, verified.secret)}` : '',
      filter,
      maxBufferedLines: bufferLines,
      maxBufferedBytes: bufferBytes,
      limits,
      metrics: hub.metrics,
      scheduler,
      onClose: () => {
        limits.release();
        const n = (streamsOpen.get(claims.key) ?? 1) - 1;
        if (n > 0) streamsOpen.set(claims.key, n);
        else streamsOpen.delete(claims.key);
        sessions.delete(session);
        const same = sessionStreams.get(sessionKey);
        same?.delete(session);
        if (same?.size === 0) sessionStreams.delete(sessionKey);
        hub.unsubscribe(claims.key, session);
        hub.metrics.sessionsActive.dec();
        release();
      },
    });
    sessions.add(session);
    streamsOpen.set(claims.key, open + 1);
    sessionStreams.set(sessionKey, (ofSession ?? new Set()).add(session));
    hub.metrics.sessionsActive.inc();
    const live = claims.tail && !stopping;
    // Subscribing first and reading history up to the subscription's snapshot is the seam.
    const start = live ? hub.subscribe(claims.kind, claims.key, session) : hub.snapshot(topics);
    session.begin(start);
    // Enforced by the ticker (one timer for all sessions, not one each).
    session.deadline = streamDeadline(verified.exp, Date.now(), maxStreamMs);

    let history;
    loading.add(session);
    try {
      // The token was issued openWindow seconds before it stops opening; the session cannot have
      // streamed from anything older (less a slack for hub lag and producer clocks).
      const issuedAtMs = (verified.exp - openWindow) * 1000;
      history = resumeFrom
        ? live
          ? await hub.catchUp(claims.key, resumeFrom, start, filter, await hub.resumeFloor(start, issuedAtMs - resumeSlackMs))
          : []
        : await hub.history({ kind: claims.kind, key: claims.key, lines: claims.lines, filter, since: claims.since }, start);
    } catch (err) {
      // Nothing was sent yet: the error handler answers (503 when Kafka is down).
      session.abort();
      throw err;
    } finally {
      loading.delete(session);
    }
    if (res.destroyed || session.isClosed) return;
    if (claims.nonce !== undefined && revocations.has(claims.nonce)) {
      session.abort();
      throw new NotFound(SESSION_NOT_FOUND);
    }

    res.statusCode = 200;
    res.setHeader('Content-Type', CONTENT_TYPES[format]);
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    if (format === 'sse') res.setHeader('Connection', 'keep-alive');
    res.socket?.setNoDelay(true);
    res.flushHeaders();
    if (format === 'sse') res.write(sseRetry(retryMs));
    session.release(history);
    if (!live) session.end();
  }

  return {
    name: 'tail',
    hub,
    sessions,
    createSession,
    openStream,
    sessionTarget: (id) => readSessionId(id, secrets),
    revokeSession,
    async start() {
      stopping = false;
      await hub.start();
      await revocations.start();
      const tick = Math.max(50, Math.min(1000, Math.floor(keepaliveMs / 2)));
      ticker = setInterval(() => {
        const now = Date.now();
        for (const s of sessions) s.keepalive(keepaliveMs, now);
      }, tick);
      ticker.unref();
    },
    async stop() {
      stopping = true;
      if (ticker) clearInterval(ticker);
      // Each stream says it is closing for a restart; SSE clients each get their own retry delay.
      for (const s of [...sessions]) s.end(2_000, { reason: 'shutdown', retryMs: jitteredRetryMs(shutdownRetryMin, shutdownRetryMax) });
      await hub.stop();
      await revocations.stop();
    },
  };
}
