/**
 * A log session's id (the `id` of the 201 body): `<a|s>.<target>.<nonce>.<mac>`, the session's
 * kind, its app key or site (base64url), a random nonce that its token carries too (claim `r`),
 * and an HMAC of the three with the session secret. Nothing is stored when a session is created,
 * so `DELETE /log-sessions/:id` learns the target it authorizes against from the id itself, and
 * the MAC makes sure logway minted it: an id cannot be made up for another app's session.
 */
import crypto from 'node:crypto';
import type { SessionSecret } from './token';

export interface SessionTarget {
  kind: 'app' | 'site';
  /** The app key (`app-space`) or the site. */
  key: string;
  /** 16 random bytes, base64url: names the session in revocations and stream counts. */
  nonce: string;
}

const MAC_CHARS = 22;
/** A site is at most 253 characters: 338 in base64url. */
const ID_RE = /^([as])\.([\w-]{1,400})\.([\w-]{22})\.([\w-]{22})$/;

export function newNonce(): string {
  return crypto.randomBytes(16).toString('base64url');
}

function mac(body: string, secret: SessionSecret): string {
  return crypto.createHmac('sha256', secret).update(`log-session-id:${body}`).digest('base64url').slice(0, MAC_CHARS);
}

/** The id of a session, authenticated with `secret` (the signing one). */
export function sessionId(target: SessionTarget, secret: SessionSecret): string {
  const body = `${target.kind === 'site' ? 's' : 'a'}.${Buffer.from(target.key, 'utf8').toString('base64url')}.${target.nonce}`;
  return `${body}.${mac(body, secret)}`;
}

/** The target an id names, or null when no accepted secret authenticates it (forged, malformed). */
export function readSessionId(id: string, secrets: SessionSecret[]): SessionTarget | null {
  const m = ID_RE.exec(id);
  if (!m) return null;
  const body = `${m[1]}.${m[2]}.${m[3]}`;
  const given = Buffer.from(m[4]);
  if (!secrets.some((s) => crypto.timingSafeEqual(given, Buffer.from(mac(body, s))))) return null;
  return { kind: m[1] === 's' ? 'site' : 'app', key: Buffer.from(m[2], 'base64url').toString('utf8'), nonce: m[3] };
}
