/**
 * The last thing a log-session stream says when logway ends it (docs/design.md "Operating logway itself",
 * issue 13): why, and whether the client may reconnect, in the stream's own format.
 *
 * - text: an Akkeris-shaped line from `logway[gateway]`, so `aka logs -t` colours it like any
 *   other (its regex wants `<ts>Z <host> <source>[<dyno>]: `);
 * - SSE: an event named `logway-close` (the Heroku CLI prints only unnamed `message` events, so
 *   it never shows up as a log line), with a `retry:` on shutdown that spreads reconnects;
 * - NDJSON: a record with `"type":"end"` (log records have no `type`).
 *
 * A stream ended because the client went away, or one refused before it started, gets nothing.
 * Overflow never ends a stream: lines are dropped and the L11 line says so; a client that stops
 * reading altogether while a stream is being ended is cut off without a closing line (it is not
 * reading it).
 */
import type { LogLine } from '../log/line';
import { toAkkerisText, logwayNotice } from '../log/format';

/** How a log session streams: Akkeris text lines, SSE events or NDJSON. */
export type StreamFormat = 'text' | 'sse' | 'ndjson';

export type EndReason = 'shutdown' | 'max_duration' | 'filter_too_expensive' | 'revoked';

export interface StreamEnding {
  reason: EndReason;
  /** SSE only: the `retry:` sent with the closing event (ms). */
  retryMs?: number;
}

export const SSE_CLOSE_EVENT = 'logway-close';
/** The closing text line's `[dyno]`: logway's gateway, not an app process. */
export const GATEWAY_DYNO = 'gateway';

const MESSAGES: Record<EndReason, string> = {
  shutdown: 'Stream closed: the server is restarting; reconnect to continue.',
  max_duration: 'Stream closed: the maximum stream duration was reached; create a new log session to continue.',
  filter_too_expensive: "Stream closed: this session's filter used more CPU than a log session may; create a new log session with a simpler filter.",
  revoked: 'Stream closed: this log session was revoked.',
};

/**
 * Shutdown: another node serves the same logplex_url. Max duration: this session's time is up.
 * Filter too expensive: the same filter would be ended again on any node. Revoked: every node
 * answers 404.
 */
const RECONNECT: Record<EndReason, boolean> = { shutdown: true, max_duration: false, filter_too_expensive: false, revoked: false };

export function closingLine(key: string, kind: 'app' | 'site', reason: EndReason, now: Date): LogLine {
  return logwayNotice(key, kind, MESSAGES[reason], now, { severity: 5, dyno: GATEWAY_DYNO });
}

/** The closing chunk for a stream of `format`, newline(s) included. */
export function renderClosing(format: StreamFormat, key: string, kind: 'app' | 'site', ending: StreamEnding, now = new Date()): string {
  const { reason } = ending;
  const body = { reason, reconnect: RECONNECT[reason], message: MESSAGES[reason] };
  switch (format) {
    case 'sse': {
      const retry = ending.retryMs !== undefined ? `retry: ${Math.max(0, Math.floor(ending.retryMs))}\n` : '';
      return `event: ${SSE_CLOSE_EVENT}\n${retry}data: ${JSON.stringify(body)}\n\n`;
    }
    case 'ndjson':
      return `${JSON.stringify({ type: 'end', time: now.toISOString(), ...body })}\n`;
    default:
      return `${toAkkerisText(closingLine(key, kind, reason, now))}\n`;
  }
}

/** A reconnect delay spread uniformly over [min, max] ms, so a rolling restart does not send every client to one node at once. */
export function jitteredRetryMs(min: number, max: number, random: () => number = Math.random): number {
  return Math.round(min + (max - min) * random());
}
