/**
 * The log-session token: everything a node needs to serve a session, signed (HS256 with the first
 * of SESSION_SECRET's secrets, verified with any of them), so any logway node can serve any session
 * and nothing is stored when a session is created.
 */
import crypto, { type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface SessionClaims {
  /** `app` (key `app-space`) or `site` (key = the site name). */
  kind: 'app' | 'site';
  key: string;
  lines: number;
  tail: boolean;
  dyno?: string;
  type?: string;
  source?: string;
  /** Absolute time, epoch ms: a relative `since` (`10m`) is resolved when the session is created. */
  since?: number;
  /** Regex source, tested against each line's message. */
  filter?: string;
  /** The random part of the session's id (./session-id): what a revocation names. */
  nonce?: string;
}

/** The compact wire form inside the JWT (tokens end up in URLs, keep them short). */
interface Wire {
  k: 'a' | 's';
  n: string;
  l: number;
  t?: 1;
  d?: string;
  y?: string;
  s?: string;
  i?: number;
  f?: string;
  r?: string;
}

export const OPEN_WINDOW_SECONDS = 300;

/**
 * The `aud` every session token carries and verification requires. API JWTs with this audience
 * are refused (lib/auth), so even with JWT_SECRET = SESSION_SECRET (development) neither kind of
 * token passes as the other.
 */
export const SESSION_AUDIENCE = 'logway:log-session';

/**
 * Bounds checked again when a token is opened, although creation already checks tighter ones: a
 * leaked SESSION_SECRET must not let a forged token ask for more than any configuration allows.
 * 1500 is the most MAX_SESSION_LINES may be; 10000 the most MAX_FILTER_LENGTH may be.
 */
export const MAX_TOKEN_LINES = 1500;
export const MAX_TOKEN_FILTER_LENGTH = 10_000;
/** dyno, type and source: the same bound as at creation (lib/tail/params MAX_SELECTOR_LENGTH), no control characters. */
export const MAX_TOKEN_SELECTOR_LENGTH = 128;
const CONTROL_CHAR_RE = /[\u0000-\u001f\u007f]/;
const NONCE_RE = /^[\w-]{22}$/;
const badSelector = (v: unknown) => typeof v === 'string' && (v.length > MAX_TOKEN_SELECTOR_LENGTH || CONTROL_CHAR_RE.test(v));

/** The secret as a string or (cheaper per call) a secret KeyObject. */
export type SessionSecret = string | KeyObject;

export function signSessionToken(claims: SessionClaims, secret: SessionSecret, opts: { openWindowSeconds?: number } = {}): string {
  const w: Wire = { k: claims.kind === 'site' ? 's' : 'a', n: claims.key, l: claims.lines };
  if (claims.tail) w.t = 1;
  if (claims.dyno) w.d = claims.dyno;
  if (claims.type) w.y = claims.type;
  if (claims.source) w.s = claims.source;
  if (claims.since !== undefined) w.i = claims.since;
  if (claims.filter !== undefined) w.f = claims.filter;
  if (claims.nonce !== undefined) w.r = claims.nonce;
  return jwt.sign(w, secret, { algorithm: 'HS256', expiresIn: opts.openWindowSeconds ?? OPEN_WINDOW_SECONDS, audience: SESSION_AUDIENCE });
}

export interface VerifiedSession {
  claims: SessionClaims;
  /** When the token stopped (or stops) being valid to open, epoch seconds. */
  exp: number;
  /** The secret it was signed with (its resume tags are made with the same one). */
  secret: SessionSecret;
}

type Payload = jwt.JwtPayload & Partial<Record<keyof Wire, unknown>>;

/** The payload and the secret of the first of `secrets` that verifies the token's signature. */
function signedPayload(token: string, secrets: SessionSecret[]): { payload: Payload; secret: SessionSecret } | null {
  for (const secret of secrets) {
    try {
      const payload = jwt.verify(token, secret, { algorithms: ['HS256'], audience: SESSION_AUDIENCE, ignoreExpiration: true }) as Payload;
      return typeof payload === 'object' && payload !== null ? { payload, secret } : null;
    } catch {
      continue; // try the next accepted secret
    }
  }
  return null;
}

/**
 * The claims, or null for a forged, malformed or expired token; `secrets` are every accepted
 * session secret (rotation). `graceSeconds` lets a client that was streaming reconnect (SSE
 * `Last-Event-ID`) after the 5-minute open window, for as long as one stream may live.
 */
export function verifySessionToken(
  token: string,
  secrets: SessionSecret | SessionSecret[],
  opts: { graceSeconds?: number; now?: number } = {},
): VerifiedSession | null {
  const signed = signedPayload(token, Array.isArray(secrets) ? secrets : [secrets]);
  if (!signed) return null;
  const { payload } = signed;
  const nowSec = Math.floor((opts.now ?? Date.now()) / 1000);
  if (typeof payload.exp !== 'number' || nowSec >= payload.exp + (opts.graceSeconds ?? 0)) return null;
  const { k, n, l, t, d, y, s, i, f, r } = payload;
  if ((k !== 'a' && k !== 's') || typeof n !== 'string' || n === '') return null;
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > MAX_TOKEN_LINES) return null;
  const optionalStrings = [d, y, s, f].every((v) => v === undefined || typeof v === 'string');
  if (!optionalStrings || (i !== undefined && (typeof i !== 'number' || !Number.isFinite(i)))) return null;
  if (typeof f === 'string' && f.length > MAX_TOKEN_FILTER_LENGTH) return null;
  if ([d, y, s].some(badSelector)) return null;
  if (r !== undefined && (typeof r !== 'string' || !NONCE_RE.test(r))) return null;
  const claims: SessionClaims = { kind: k === 's' ? 'site' : 'app', key: n, lines: l, tail: t === 1 };
  if (typeof d === 'string') claims.dyno = d;
  if (typeof y === 'string') claims.type = y;
  if (typeof s === 'string') claims.source = s;
  if (typeof i === 'number') claims.since = i;
  if (typeof f === 'string') claims.filter = f;
  if (typeof r === 'string') claims.nonce = r;
  return { claims, exp: payload.exp, secret: signed.secret };
}

/**
 * The tag a session's SSE ids end with (`id: <cursor>~<tag>`): an HMAC of the session token, so
 * only a client that read this session's stream can resume it after the open window. A bare or
 * foreign cursor in Last-Event-ID reopens nothing.
 */
export function resumeTag(token: string, secret: SessionSecret): string {
  return crypto.createHmac('sha256', secret).update(`resume:${token}`).digest('base64url').slice(0, 22);
}

/** The cursor text of a Last-Event-ID whose tag belongs to `token`, else null. */
export function taggedCursor(lastEventId: string | undefined, token: string, secret: SessionSecret): string | null {
  if (!lastEventId) return null;
  const i = lastEventId.lastIndexOf('~');
  if (i < 0) return null;
  const given = Buffer.from(lastEventId.slice(i + 1).trim());
  const expected = Buffer.from(resumeTag(token, secret));
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  return lastEventId.slice(0, i);
}

/**
 * When a stream of a session ends, epoch ms: `maxStreamMs` after it opened, and never later than
 * `maxStreamMs` after the token's open window closed (`exp`). A resume (SSE Last-Event-ID) is a new
 * stream, so without the second bound each one restarted the clock and a leaked URL read for hours.
 */
export function streamDeadline(exp: number, openedAt: number, maxStreamMs: number): number {
  return Math.min(openedAt + maxStreamMs, exp * 1000 + maxStreamMs);
}
