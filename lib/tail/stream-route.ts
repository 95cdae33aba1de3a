/**
 * `GET /log-sessions/<token>` (the logplex_url stream) served straight from node's HTTP server,
 * ahead of Express (issue 10 item 6, "cheaper sessions"). An idle stream holds its socket for up to
 * an hour, so what a request leaves behind counts thousands of times over: through Express each one
 * kept the router's `next`/bound closures, the parsed Url, a pino child logger and several copies of
 * the ~250-character token (url, originalUrl, params) — about 8 KB of heap per open session in a
 * heap snapshot. Here a stream keeps its request, response and TailSession, one close listener
 * and the token once.
 *
 * What the client sees is the Express route's: the same handler (TailFeature.openStream), the same
 * X-Request-Id, error JSON (`{"id","message"}`, Retry-After on 429), access log line and
 * `logway_http_*` series under the route `/log-sessions/:token`. Anything but the plain form (not
 * GET, a path with more segments, an encoded token) is left to Express, which answers as before.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Core, Feature } from '../core';
import { asHttpError, logRequestError, observeResponse, requestIdFrom } from '../http';
import type { TailFeature } from './feature';

const PREFIX = '/log-sessions/';
const ROUTE = '/log-sessions/:token';
/** A session token as createSession signs it: base64url parts joined by dots. */
const TOKEN = /^[\w.-]+$/;

/** The stream's `?format=` as Express's query parser gives it: a string, or an array when repeated. */
function formatParam(query: string): string | string[] | undefined {
  if (query === '') return undefined;
  const all = new URLSearchParams(query).getAll('format');
  return all.length > 1 ? all : all[0];
}

/** Wraps a node's request listener: stream URLs are served here, everything else by `next`. */
export function withStreamRoute(core: Core, tail: Pick<TailFeature, 'openStream'>, next: RequestListener): RequestListener {
  const { logger, prom } = core;
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith(PREFIX)) return next(req, res);
    const q = url.indexOf('?');
    const token = q < 0 ? url.slice(PREFIX.length) : url.slice(PREFIX.length, q);
    if (!TOKEN.test(token)) return next(req, res);
    serve(req, res, token, q < 0 ? '' : url.slice(q + 1));
  };

  function serve(req: IncomingMessage, res: ServerResponse, token: string, query: string): void {
    const id = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', id);
    // Without a child logger kept per open stream: the request id is added when the line is written.
    observeResponse(
      res,
      prom,
      'GET',
      () => ROUTE,
      (fields) => logger.info({ request_id: id, ...fields }, 'request'),
    );
    tail.openStream(req, res, token, formatParam(query)).catch((err: unknown) => {
      const http = asHttpError(err);
      logRequestError(err, http, logger.child({ request_id: id }));
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (http.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(http.retryAfterSeconds));
      const body = JSON.stringify({ id: http.id, message: http.message });
      res.statusCode = http.status;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
    });
  }
}

/** The node's listener with the tail feature's stream URL served ahead of it (unchanged without that feature). */
export function withTailStreams(core: Core, features: Feature[], next: RequestListener): RequestListener {
  const tail = features.find((f): f is TailFeature => f.name === 'tail');
  return tail ? withStreamRoute(core, tail, next) : next;
}
