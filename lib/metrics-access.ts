/**
 * Who may read `/metrics` (docs/security.md "Metrics access"): with METRICS_TOKEN set, only a scraper
 * presenting `Authorization: Bearer <METRICS_TOKEN>`; unset (development only), anyone. An API key
 * does not open it: the scraper's credential reads figures and nothing else, and an operator key
 * need not sit in the Prometheus configuration.
 */
import type { RequestHandler } from 'express';
import { matchesApiKey } from './auth';
import { Unauthorized } from './errors';

const BEARER = /^Bearer +(\S+) *$/i;

export function requireMetricsToken(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (token === undefined) return next();
    const presented = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== undefined && matchesApiKey(presented, [token])) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="logway metrics"');
    next(new Unauthorized('Unauthorized: /metrics requires Authorization: Bearer <METRICS_TOKEN>.'));
  };
}
