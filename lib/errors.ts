/** The few typed errors routes and lib raise; lib/error-handler maps them to status + Akkeris JSON body. */
import net from 'node:net';

export class HttpError extends Error {
  /** Sent as `Retry-After` (lib/http): the client may ask again after this many seconds. */
  retryAfterSeconds?: number;
  constructor(
    public status: number,
    public id: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
export class BadRequest extends HttpError {
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}
export class Unauthorized extends HttpError {
  constructor(message = 'Unauthorized') {
    super(401, 'unauthorized', message);
  }
}
export class Forbidden extends HttpError {
  constructor(message = 'Forbidden') {
    super(403, 'forbidden', message);
  }
}
export class NotFound extends HttpError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}
export class Conflict extends HttpError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}
export class Unprocessable extends HttpError {
  constructor(message: string) {
    super(422, 'unprocessable_entity', message);
  }
}
/** A limit of this node was reached (open streams, Kafka read-backs): retry after `retryAfterSeconds` (lib/http's error handler sends it as `Retry-After`). */
export class TooManyRequests extends HttpError {
  constructor(message: string, retryAfterSeconds = 5) {
    super(429, 'rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** This node is at a limit of its own (open streams, their memory): another node, or this one later, may serve. */
export class NodeBusy extends HttpError {
  constructor(message: string, retryAfterSeconds = 5) {
    super(503, 'service_unavailable', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
const HOSTNAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
const ERRNO = /^E[A-Z0-9_]{3,}$/;

function isAddress(word: string, afterErrno: boolean): boolean {
  const w = word.replace(/[,;.)'"]+$/, '').replace(/^['"(]+/, '');
  if (w.includes('://') || net.isIP(w) !== 0) return true;
  const bracketed = /^\[([0-9a-f:.]+)\](:\d{1,5})?$/i.exec(w);
  if (bracketed) return net.isIP(bracketed[1]) !== 0;
  const hostPort = /^(.+):\d{1,5}$/.exec(w);
  if (hostPort) return net.isIP(hostPort[1]) !== 0 || HOSTNAME.test(hostPort[1]);
  // `getaddrinfo ENOTFOUND kafka-0.internal`, `ECONNREFUSED influx.internal`
  return afterErrno && (w.includes('.') || w === 'localhost') && HOSTNAME.test(w);
}

/**
 * A driver's error text without the hosts, ports and URLs it names (`connect ECONNREFUSED
 * 10.0.0.5:9092` → `connect ECONNREFUSED`): what failed may be shown to any client, where is
 * for the server's own logs.
 */
export function withoutAddresses(text: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  const kept = words.filter((w, i) => !isAddress(w, i > 0 && ERRNO.test(words[i - 1].replace(/[:,]$/, ''))));
  return kept.join(' ').replace(/[\s:,]+$/, '');
}

/**
 * A backend (Kafka, InfluxDB, PostgreSQL, upstream) is down: the message names it and what failed,
 * never where it lives (responses reach unauthenticated clients); `detail` keeps the driver's words
 * for the logs (pino's err serializer includes it).
 */
export class Unavailable extends HttpError {
  public detail?: string;
  constructor(
    public dependency: string,
    detail?: string,
  ) {
    const reason = detail === undefined ? '' : withoutAddresses(detail);
    super(503, 'service_unavailable', `${dependency} is unavailable${reason ? `: ${reason}` : ''}.`);
    this.detail = detail;
  }
}

export const appNotFound = (app: string) => new NotFound(`The specified application ${app} does not exist.`);
