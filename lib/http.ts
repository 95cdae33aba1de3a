/** Express plumbing shared by every router: request ids, access logs, JSON bodies, the error handler. */
import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import express, { ErrorRequestHandler, RequestHandler } from 'express';
import { Logger } from './logger';
import { Prom } from './prom';
import { BadRequest, HttpError, NotFound, Unavailable } from './errors';
import { isReported } from './dependencies';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
    }
  }
}

export const REQUEST_ID = /^[\w.:@-]{1,200}$/;

/** The client's X-Request-Id when it is a sane one, else a fresh uuid. */
export function requestIdFrom(given: unknown): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/**
 * Counts and access-logs a response when it closes: 'close' fires for finished and for abandoned
 * responses alike (a Ctrl-C'd tail never 'finish'es). `route` is the matched pattern, never the
 * path: it keeps label cardinality bounded, and a path may hold a secret (the logplex_url token).
 */
export function observeResponse(
  res: ServerResponse,
  prom: Prom,
  method: string,
  route: () => string,
  accessLog: (fields: Record<string, unknown>) => void,
): void {
  const started = process.hrtime.bigint();
  res.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const r = route();
    prom.httpRequests.inc({ method, route: r, status: String(res.statusCode) });
    prom.httpDuration.observe({ method, route: r }, seconds);
    accessLog({ method, route: r, status: res.statusCode, duration_ms: Math.round(seconds * 1000), completed: res.writableFinished });
  });
}

export function requestContext(logger: Logger, prom: Prom): RequestHandler {
  return (req, res, next) => {
    req.id = requestIdFrom(req.header('x-request-id'));
    req.log = logger.child({ request_id: req.id });
    res.setHeader('X-Request-Id', req.id);
    observeResponse(
      res,
      prom,
      req.method,
      () => (req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? 'unmatched' : 'other'),
      (fields) => req.log.info(fields, 'request'),
    );
    next();
  };
}

/** JSON bodies for the routes that take them; parse failures become 400 in the error handler. */
export const jsonBody: RequestHandler = express.json({ limit: '1mb', type: ['application/json', 'application/*+json', 'text/plain'] });

/** A JWT-shaped path segment (three base64url parts): a logplex_url token sent to the wrong route. */
const TOKEN_SEGMENT = /[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g;

/** A request path fit for a log line or an error body: tokens in it replaced by `:token`, no query string. */
export function redactedPath(path: string): string {
  return path.replace(TOKEN_SEGMENT, ':token');
}

export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    // Echoed back to the caller, and into the debug log of rejected requests: never a token.
    next(new NotFound(`The requested resource ${req.method} ${redactedPath(req.path)} was not found.`));
  };
}

/** Every error as one of ours: the typed errors pass through; body-parser's and other 4xx map onto them. */
export function asHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { type?: string; status?: unknown; expose?: boolean; message?: string } | undefined;
  if (e?.type === 'entity.parse.failed') return new BadRequest('The request body was not valid JSON.');
  if (e?.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'The request body was too large.');
  // Only errors made to be shown (http-errors' `expose`, as body-parser's are) keep their 4xx: a
  // dependency's client error (InfluxDB answering 404) is ours, never the caller's.
  if (e?.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpError(e.status, 'bad_request', e.expose && e.message ? String(e.message) : 'Bad request.');
  }
  return new HttpError(500, 'internal_server_error', 'Internal server error.');
}

/** How a failed request is logged (also by lib/tail/stream-route, which answers outside Express). */
export function logRequestError(err: unknown, http: HttpError, log: Logger | undefined): void {
  const status = http.status;
  if (err instanceof Unavailable) {
    // A dependency outage is not a bug: no stack. Once the tracker has logged the outage (one warn
    // for all of it), each request it fails is a debug line; the access log still counts the 503.
    const fields = { status, dependency: err.dependency, message: err.message, detail: err.detail };
    if (isReported(err)) log?.debug(fields, 'request failed: dependency unavailable');
    else log?.warn(fields, 'request failed: dependency unavailable');
  } else if (status >= 500) log?.error({ err, status }, 'request failed');
  else log?.debug({ status, message: http.message }, 'request rejected');
}

export function errorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const http = asHttpError(err);
    const status = http.status;
    const body = { id: http.id, message: http.message };
    logRequestError(err, http, req.log ?? undefined);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Every 429, whichever route or limit raised it, says when to come back (RFC 9110 §10.2.3).
    if (http.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(http.retryAfterSeconds));
    res.status(status).json(body);
  };
}
