/** Upstream pass-through: requests logway does not own go to the Akkeris controller, so `aka` needs one API host. */
import httpProxy from 'http-proxy';
import type { RequestHandler } from 'express';
import { Logger } from './logger';

export function createUpstreamProxy(upstreamUrl: string, logger: Logger): RequestHandler {
  const proxy = httpProxy.createProxyServer({ target: upstreamUrl, changeOrigin: true, xfwd: true, proxyTimeout: 30_000, timeout: 30_000 });
  const log = logger.child({ component: 'proxy' });
  proxy.on('error', (err, req, res) => {
    log.warn({ err: err.message, url: req.url }, 'upstream request failed');
    // `res` is a ServerResponse for HTTP requests (a Socket only for websocket upgrades, which we do not proxy).
    if ('headersSent' in res) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ id: 'service_unavailable', message: `The upstream Akkeris controller (${upstreamUrl}) is unavailable: ${err.message}` }));
    }
  });
  return (req, res) => {
    proxy.web(req, res);
  };
}
