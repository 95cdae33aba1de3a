/**
 * The web console (docs/design.md §3 "Operating logway itself": `GET /`): the static bundle web/build.mjs
 * writes to dist/web, served same-origin under a strict Content-Security-Policy. The console is
 * a client of the public API like any other; this router serves files and nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router, Request, Response } from 'express';
import { Unavailable } from './errors';

/**
 * No inline script or style, no eval, no third-party origin: scripts, styles and fetches are this
 * origin's only. Styles set from script through the CSSOM (uPlot, the virtual list) are not
 * governed by style-src, so 'unsafe-inline' is not needed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Hashed asset names never change content: a year, immutable. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
/** `app-ABCD1234.js`: only names the build can produce; nothing else under /console/ is a file. */
export const ASSET = /^[\w-]+-[A-Z0-9]{8}\.(js|css|svg|png)$/;

/** dist/web next to the compiled lib (dist/lib/../web), or dist/web from the sources (ts-jest, tsx). */
export function findConsoleDir(): string | undefined {
  const candidates = [path.resolve(__dirname, '..', 'web'), path.resolve(__dirname, '..', 'dist', 'web')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'manifest.json')) && fs.existsSync(path.join(d, 'index.html')));
}

/** The asset names GET /console/{file} serves from this build (none when the console is not built). */
export function consoleAssetNames(dir: string | undefined = findConsoleDir()): string[] {
  return dir
    ? fs
        .readdirSync(dir)
        .filter((name) => ASSET.test(name))
        .sort()
    : [];
}

interface Asset {
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  type: string;
}

function load(file: string): Asset {
  const read = (p: string) => (fs.existsSync(p) ? fs.readFileSync(p) : undefined);
  return { body: fs.readFileSync(file), br: read(`${file}.br`), gzip: read(`${file}.gz`), type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
}

function send(req: Request, res: Response, asset: Asset, cacheControl: string): void {
  res.setHeader('Content-Type', asset.type);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const accepts = String(req.get('accept-encoding') ?? '');
  let body = asset.body;
  if (asset.br && /\bbr\b/.test(accepts)) {
    res.setHeader('Content-Encoding', 'br');
    body = asset.br;
  } else if (asset.gzip && /\bgzip\b/.test(accepts)) {
    res.setHeader('Content-Encoding', 'gzip');
    body = asset.gzip;
  }
  res.setHeader('Content-Length', String(body.length));
  res.end(req.method === 'HEAD' ? undefined : body);
}

export interface ConsoleOptions {
  /** The built console (default: findConsoleDir()). */
  dir?: string;
}

export function consoleRouter(opts: ConsoleOptions = {}): Router {
  const router = Router();
  const dir = opts.dir ?? findConsoleDir();
  // Read once: the bundle is small and immutable for the life of the process.
  const assets = new Map<string, Asset>();
  let index: Asset | undefined;
  if (dir) {
    index = load(path.join(dir, 'index.html'));
    for (const name of consoleAssetNames(dir)) assets.set(name, load(path.join(dir, name)));
  }

  const page = (req: Request, res: Response) => {
    if (!index) throw new Unavailable('console', 'not built on this node (npm run build writes it)');
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    // Always revalidated, so a new deployment's hashed bundle names are picked up at once.
    send(req, res, index, 'no-cache');
  };
  router.get('/', page);
  router.get('/console', page); // and /console/ (non-strict routing)
  router.get('/console/:file', (req, res, next) => {
    const asset = assets.get(String(req.params.file));
    if (!asset) return next();
    send(req, res, asset, IMMUTABLE);
  });
  return router;
}
