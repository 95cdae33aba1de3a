/**
 * What the upstream pass-through (lib/proxy.ts) changes on the way through, as a proxy must
 * (RFC 9110 §7.6): hop-by-hop fields dropped both ways, the forwarding fields set by logway alone,
 * dot-segments refused, and upstream responses made harmless on the console's origin
 * (docs/security.md "The upstream pass-through").
 */
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';

/** RFC 9110 §7.6.1 (and the pre-standard Proxy-Connection): meaningful for one connection only. */
const HOP_BY_HOP = ['connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** A caller's credential for logway as a proxy, never for the upstream. */
const PROXY_CREDENTIALS = ['proxy-authorization', 'proxy-authenticate'];

/** Set by logway alone: a caller's own values would let it claim any address, host or scheme. */
const FORWARDING = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'forwarded'];

/** Fields that frame the message: a `Connection` list naming them must not break the request. */
const FRAMING = new Set(['host', 'content-length']);

/** The field names a `Connection` header lists (RFC 9110 §7.6.1), lower case. */
function connectionOptions(value: string | string[] | number | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** Every field the hop carries that must not go further: hop-by-hop, those `Connection` names. */
function hopFields(headers: http.IncomingHttpHeaders): string[] {
  return [...HOP_BY_HOP, ...connectionOptions(headers.connection)].filter((name) => !FRAMING.has(name));
}

/**
 * The request to the upstream, before its headers are sent: the caller's hop-by-hop fields,
 * proxy credentials and forwarding claims removed; logway's own forwarding fields set from the
 * connection it accepted.
 */
export function rewriteUpstreamRequest(proxyReq: http.ClientRequest, req: http.IncomingMessage): void {
  for (const name of [...hopFields(req.headers), ...PROXY_CREDENTIALS, ...FORWARDING]) proxyReq.removeHeader(name);
  // A streamed body keeps chunked framing on the upstream hop (node encodes it).
  if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined) proxyReq.setHeader('Transfer-Encoding', 'chunked');
  const peer = req.socket.remoteAddress ?? '';
  if (peer !== '') {
    proxyReq.setHeader('X-Forwarded-For', peer);
    proxyReq.setHeader('X-Real-IP', peer);
  }
  if (req.headers.host !== undefined) proxyReq.setHeader('X-Forwarded-Host', req.headers.host);
  proxyReq.setHeader('X-Forwarded-Proto', (req.socket as TLSSocket).encrypted ? 'https' : 'http');
}

/**
 * No script, frame, plugin or form of a proxied response runs as the console's origin, whatever
 * the upstream sends: `sandbox` gives an HTML response an opaque origin of its own.
 */
export const PROXIED_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/** Replaced on every proxied response, whatever the upstream said. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': PROXIED_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * The upstream's response, before it is copied to the client: hop-by-hop fields and cookies
 * dropped (a cookie set for the console's origin would reach every logway route), the console's
 * security headers set.
 */
export function rewriteUpstreamResponse(proxyRes: http.IncomingMessage): void {
  for (const name of [...hopFields(proxyRes.headers), 'set-cookie', ...PROXY_CREDENTIALS]) delete proxyRes.headers[name];
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) proxyRes.headers[name] = value;
}

/**
 * Whether the request target's path holds a `.` or `..` segment, however encoded (`%2e`, `%2E`,
 * `%252e`, with `\`, `%2f` or `%5c` as the separator): the upstream might resolve it and step out
 * of its base path. Paths that merely contain dots (`/apps/a.b`, `/...`) are fine.
 */
export function hasDotSegment(url: string): boolean {
  let path = url;
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  // Undo stacked percent-encoding of `%` first (a double-decoding upstream sees through it).
  for (let i = 0; i < 5 && /%25/i.test(path); i++) path = path.replace(/%25/gi, '%');
  const plain = path.replace(/%2e/gi, '.').replace(/%2f|%5c|\\/gi, '/');
  return plain.split('/').some((segment) => segment === '.' || segment === '..');
}
