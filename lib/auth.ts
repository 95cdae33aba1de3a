/** API authentication (docs/design.md §3): raw key (aka's API_AUTH), `Bearer <key>` (Heroku CLI), or `Bearer <JWT>`. */
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { RequestHandler } from 'express';
import { Unauthorized } from './errors';
import { SESSION_AUDIENCE } from './tail/token';

/** What lib/config's Config holds for auth; `requireAuth(config)` passes it whole. */
export interface AuthOptions {
  apiKeys: string[];
  jwtSecret?: string;
  jwtPublicKey?: string;
  /** When set, a JWT must name it in `aud`. */
  jwtAudience?: string;
  /** When set, a JWT's `iss` must be it. */
  jwtIssuer?: string;
}

/** Compares against every key without an early exit, so timing says nothing about which key or prefix matched. */
export function matchesApiKey(candidate: string, keys: string[]): boolean {
  const c = crypto.createHash('sha256').update(candidate).digest();
  let found = false;
  for (const key of keys) {
    const k = crypto.createHash('sha256').update(key).digest();
    if (crypto.timingSafeEqual(c, k)) found = true;
  }
  return found;
}

/**
 * The longest an API JWT may still be valid for: a token whose `exp` is further ahead than this
 * (e.g. `exp: 1e300`) is as good as eternal and is refused. 24 hours, fixed.
 */
export const MAX_JWT_LIFETIME_SECONDS = 86_400;

/**
 * A JWT passes when it is signed with a configured key, carries a numeric `exp` in the future but
 * at most MAX_JWT_LIFETIME_SECONDS away (a token without one, or with one centuries ahead, would be
 * valid forever), has no `crit` header (RFC 7515 §4.1.11: extensions we do not understand must be
 * refused), matches JWT_AUDIENCE/JWT_ISSUER when they are set, and is not a log-session token
 * (audience SESSION_AUDIENCE), whatever the configuration.
 */
export function verifyJwt(token: string, opts: AuthOptions, now: number = Date.now()): boolean {
  const verifications: [jwt.Secret, jwt.Algorithm[]][] = [];
  if (opts.jwtSecret) verifications.push([opts.jwtSecret, ['HS256']]);
  if (opts.jwtPublicKey) verifications.push([opts.jwtPublicKey, ['RS256']]);
  const checks: jwt.VerifyOptions = {};
  if (opts.jwtAudience) checks.audience = opts.jwtAudience;
  if (opts.jwtIssuer) checks.issuer = opts.jwtIssuer;
  for (const [key, algorithms] of verifications) {
    let verified: jwt.Jwt;
    try {
      verified = jwt.verify(token, key, { ...checks, algorithms, complete: true, clockTimestamp: Math.floor(now / 1000) });
    } catch {
      continue; // try the next key
    }
    if ('crit' in verified.header) return false;
    const payload = verified.payload;
    if (typeof payload !== 'object' || typeof payload.exp !== 'number') return false;
    if (payload.exp > now / 1000 + MAX_JWT_LIFETIME_SECONDS) return false;
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    return !audiences.includes(SESSION_AUDIENCE);
  }
  return false;
}

export function authenticate(header: string | undefined, opts: AuthOptions): boolean {
  if (!header) return false;
  const value = header.replace(/^Bearer\s+/i, '').trim();
  if (!value) return false;
  if (matchesApiKey(value, opts.apiKeys)) return true;
  return value.split('.').length === 3 && verifyJwt(value, opts);
}

export function requireAuth(opts: AuthOptions): RequestHandler {
  return (req, _res, next) => {
    next(authenticate(req.headers.authorization, opts) ? undefined : new Unauthorized('Unauthorized: a valid API key or token is required.'));
  };
}
