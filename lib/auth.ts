/**
 * API authentication (docs/design.md §3): raw key (aka's API_AUTH), `Bearer <key>` (Heroku CLI), or
 * `Bearer <JWT>`; and authorization by the credential's scope (./credential, docs/credentials.md).
 */
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { RequestHandler, Response } from 'express';
import { Forbidden, Unauthorized } from './errors';
import { SESSION_AUDIENCE } from './tail/token';
import { Credential, credentialFromClaims, mayTouchApp, mayTouchSite, OPERATOR } from './credential';

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
  return verifiedJwtPayload(token, opts, now) !== null;
}

/** The payload of a JWT that passes verifyJwt, or null. */
export function verifiedJwtPayload(token: string, opts: AuthOptions, now: number = Date.now()): jwt.JwtPayload | null {
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
    if ('crit' in verified.header) return null;
    const payload = verified.payload;
    if (typeof payload !== 'object' || typeof payload.exp !== 'number') return null;
    if (payload.exp > now / 1000 + MAX_JWT_LIFETIME_SECONDS) return null;
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    return audiences.includes(SESSION_AUDIENCE) ? null : payload;
  }
  return null;
}

/** The credential an Authorization header carries, or null when it carries none that is valid. */
export function credentialFor(header: string | undefined, opts: AuthOptions): Credential | null {
  if (!header) return null;
  const value = header.replace(/^Bearer\s+/i, '').trim();
  if (!value) return null;
  if (matchesApiKey(value, opts.apiKeys)) return OPERATOR;
  if (value.split('.').length !== 3) return null;
  const payload = verifiedJwtPayload(value, opts);
  return payload ? credentialFromClaims(payload) : null;
}

export function authenticate(header: string | undefined, opts: AuthOptions): boolean {
  return credentialFor(header, opts) !== null;
}

/** Turns `:app` (an app key or an app id) into the app's key, or null when no such app is known. */
export type AppKeyLookup = (appKeyOrId: string) => Promise<string | null>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const READ_METHODS = new Set(['GET', 'HEAD']);

export interface RequireAuthOptions {
  /** Resolves app ids for scope checks (without it, an app id is outside every scope). */
  appKeyOf?: AppKeyLookup;
  /** A read-only credential may use this route whatever its method (creating a log session reads). */
  readsOnly?: boolean;
}

/**
 * Authenticates, then authorizes by scope: a scoped credential answers 403 for an `:app` or `:site`
 * it does not name (whether or not it exists: a scope learns nothing of other tenants), and a
 * read-only one for a method that writes. Routes whose target is in the body check it themselves
 * with credentialOf().
 */
export function requireAuth(opts: AuthOptions, ro: RequireAuthOptions = {}): RequestHandler {
  return async (req, res, next) => {
    const cred = credentialFor(req.headers.authorization, opts);
    if (!cred) return next(new Unauthorized('Unauthorized: a valid API key or token is required.'));
    res.locals.credential = cred;
    if (cred.kind === 'operator') return next();
    if (cred.readOnly && !ro.readsOnly && !READ_METHODS.has(req.method)) {
      return next(new Forbidden('Forbidden: this credential may only read.'));
    }
    const { app, site } = req.params as { app?: string; site?: string };
    if (app !== undefined) {
      const key = UUID.test(app) ? ((await ro.appKeyOf?.(app)) ?? null) : app;
      if (key === null || !mayTouchApp(cred, key)) return next(forbiddenApp(app));
    }
    if (site !== undefined && !mayTouchSite(cred, site)) {
      return next(new Forbidden(`Forbidden: this credential may not touch the site ${site.slice(0, 253)}.`));
    }
    next();
  };
}

export const forbiddenApp = (app: string): Forbidden => new Forbidden(`Forbidden: this credential may not touch the application ${app.slice(0, 253)}.`);

/** The credential requireAuth accepted for this request. */
export function credentialOf(res: Response): Credential {
  const cred = res.locals.credential as Credential | undefined;
  if (!cred) throw new Error('credentialOf: the route is not behind requireAuth');
  return cred;
}
