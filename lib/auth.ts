/** API authentication (DESIGN.md §3): raw key (aka's API_AUTH), `Bearer <key>` (Heroku CLI), or `Bearer <JWT>`. */
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { RequestHandler } from 'express';
import { Unauthorized } from './errors';

export interface AuthOptions {
  apiKeys: string[];
  jwtSecret?: string;
  jwtPublicKey?: string;
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

export function verifyJwt(token: string, opts: AuthOptions): boolean {
  const verifications: [jwt.Secret, jwt.Algorithm[]][] = [];
  if (opts.jwtSecret) verifications.push([opts.jwtSecret, ['HS256']]);
  if (opts.jwtPublicKey) verifications.push([opts.jwtPublicKey, ['RS256']]);
  for (const [key, algorithms] of verifications) {
    try {
      jwt.verify(token, key, { algorithms });
      return true;
    } catch {
      /* try the next key */
    }
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
