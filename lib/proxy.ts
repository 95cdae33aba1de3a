/**
 * Upstream pass-through: requests logway does not own go to the Akkeris controller, so `aka` needs
 * one API host (docs/design.md §3 "Operating logway itself"). Mounted by bin/wiring (startServer) as the app's fallback,
 * after every feature router; feature routers parse bodies per route, so a request that reaches
 * here normally still has its body stream untouched and is piped through as it arrives.
 *
 * Kept end to end: method, path + query (after the upstream URL's own path, if any), end-to-end
 * headers (Host becomes the upstream's, the caller's goes in X-Forwarded-Host), body, status,
 * end-to-end response headers, and streaming in both directions. Changed as an honest proxy must
 * (./proxy-headers): hop-by-hop fields and proxy credentials dropped, X-Forwarded-* and X-Real-IP
 * set by logway, dot-segment paths refused (400), no upstream cookie, the console's security headers. Upstream unreachable, refusing, or silent before
 * answering → 503 JSON naming the upstream controller (not its address: anyone may reach the fallback). Upstream dying mid-response → the client connection is
 * cut (the status line has gone; a truncated body must not look complete).
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Request, RequestHandler, Response } from 'express';
import { Logger } from './logger';
import { BadRequest, Unavailable } from './errors';
import { redactedPath } from './http';
import { hasDotSegment, rewriteUpstreamRequest, rewriteUpstreamResponse } from './proxy-headers';

export interface UpstreamProxyOptions {
  /** Idle time (ms) on the upstream connection before giving up; a streaming response that keeps sending is never cut. Default 120 s. */
  idleTimeoutMs?: number;
}

/** The upstream as users may see it in an error: no credentials. */
export function describeUpstream(upstreamUrl: string): string {
  try {
    const u = new URL(upstreamUrl);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return upstreamUrl;
  }
}

/**
 * The body again, when something upstream of the fallback already consumed the stream (a parser
 * mounted globally). JSON and urlencoded parsers leave `req.body`; raw parsers leave a Buffer.
 */
function replayBody(req: Request): { stream: Readable; length: number } | null {
  if (!req.readableEnded && !(req as unknown as { _body?: boolean })._body) return null;
  const body: unknown = req.body;
  if (body === undefined || body === null) return { stream: Readable.from([]), length: 0 };
  let buf: Buffer;
  if (Buffer.isBuffer(body)) buf = body;
  else if (typeof body === 'string') buf = Buffer.from(body, 'utf8');
  else if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    buf = Buffer.from(new URLSearchParams(body as Record<string, string>).toString(), 'utf8');
  } else buf = Buffer.from(JSON.stringify(body), 'utf8');
  return { stream: Readable.from([buf]), length: buf.length };
}

export function createUpstreamProxy(upstreamUrl: string, logger: Logger, opts: UpstreamProxyOptions = {}): RequestHandler {
  const upstream = describeUpstream(upstreamUrl);
  const idleTimeoutMs = opts.idleTimeoutMs ?? 120_000;
  const proxy = httpProxy.createProxyServer({
    target: upstreamUrl,
    changeOrigin: true,
    // Set by rewriteUpstreamRequest, replacing the caller's (xfwd would append to them).
    xfwd: false,
    proxyTimeout: idleTimeoutMs,
    // Keep-alive to the upstream: aka makes many small calls.
    agent: upstreamUrl.startsWith('https:') ? undefined : new http.Agent({ keepAlive: true }),
  });
  const log = logger;

  proxy.on('proxyReq', (proxyReq, req) => rewriteUpstreamRequest(proxyReq, req));
  proxy.on('proxyRes', (proxyRes, _req, res) => {
    rewriteUpstreamResponse(proxyRes);
    const cut = () => {
      if (!res.writableEnded) res.destroy();
    };
    proxyRes.on('aborted', cut);
    proxyRes.on('error', cut);
  });

  function fail(err: Error & { code?: string }, req: Request, res: Response): void {
    const detail =
      err.code === 'ECONNRESET' && /hang up/i.test(err.message) ? `no answer within ${idleTimeoutMs} ms or connection reset` : (err.code ?? err.message);
    // The path without its query string, tokens redacted: a URL may carry secrets.
    (req.log ?? log)
      .child({ component: 'proxy', upstream })
      .warn({ err: err.message, code: err.code, method: req.method, path: redactedPath(req.path) }, 'upstream request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Anyone may reach the fallback: the body names no internal host (the log above does).
    const e = new Unavailable('The upstream Akkeris controller', detail);
    res.status(e.status).json({ id: e.id, message: e.message });
  }

  return (req, res) => {
    if (hasDotSegment(req.originalUrl ?? req.url)) throw new BadRequest('The request path may not contain "." or ".." segments.');
    // The upstream sees the same request id as logway's logs.
    if (req.id) req.headers['x-request-id'] = req.id;
    const replay = replayBody(req);
    if (replay) {
      req.headers['content-length'] = String(replay.length);
      delete req.headers['transfer-encoding'];
    }
    proxy.web(req, res, replay ? { buffer: replay.stream } : {}, (err) => fail(err as Error, req, res));
  };
}
