/** Drain urls (docs/design.md §3 "Log drains"): which schemes, what a sane host:port is, and what a sender needs from one. */
import net from 'node:net';
import { BadRequest, Unprocessable } from '../lib/errors';

export type DrainTransport = 'tcp' | 'tls' | 'udp' | 'http' | 'https';

export interface DrainTarget {
  transport: DrainTransport;
  host: string;
  port: number;
  /** `#insecure` on a syslog+tls url: skip certificate checks (self-signed receivers). */
  insecure: boolean;
  /** RFC6587: octet counting (default) or LF-terminated (`?framing=newline`). Syslog only. */
  framing: 'octet' | 'newline';
  /** HTTP(S): basic auth from the url's userinfo (decoded). */
  username?: string;
  password?: string;
  /** HTTP(S): the url to POST to, without userinfo and fragment. */
  endpoint?: string;
}

const SCHEMES: Record<string, DrainTransport> = {
  'syslog:': 'tcp',
  'syslog+tcp:': 'tcp',
  'syslog+tls:': 'tls',
  'syslog+udp:': 'udp',
  'http:': 'http',
  'https:': 'https',
};

export const SUPPORTED_SCHEMES = ['syslog://', 'syslog+tcp://', 'syslog+tls://', 'syslog+udp://', 'http://', 'https://'];

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Akkeris and Heroku refuse a duplicate drain by comparing urls trimmed and case-insensitively. */
export function normalizeDrainUrl(url: string): string {
  return url.trim().toLowerCase();
}

/** The create body's url: present and a string, else Akkeris's 400. */
export function requireUrlParam(body: unknown): string {
  const url = (body as { url?: unknown } | undefined)?.url;
  if (url === undefined || url === null || url === '' || (typeof url === 'string' && url.trim() === '')) {
    throw new BadRequest('The request did not include a "url" parameter.');
  }
  if (typeof url !== 'string') throw new Unprocessable('The specified url must be a string.');
  return url.trim();
}

/** Parses and validates a drain url; throws 422 saying what is wrong. */
export function parseDrainUrl(raw: string): DrainTarget {
  const text = raw.trim();
  if (text.length > 2048) throw new Unprocessable('The specified url is too long (2048 characters at most).');
  // Stored as written and shown back by the API: no controls (a NUL cannot even be stored) and no lone surrogates.
  if (/[\x00-\x1f\x7f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    throw new Unprocessable('The specified url contains control characters or invalid text.');
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new Unprocessable(`The specified url ${redact(text)} is not a valid url.`);
  const transport = SCHEMES[`${scheme}:`];
  if (!transport) {
    throw new Unprocessable(`The url scheme ${scheme}:// is not supported; use one of ${SUPPORTED_SCHEMES.join(', ')}.`);
  }
  const portText = explicitPort(text);
  const explicit = portText === null ? null : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (explicit !== null && !(explicit >= 1 && explicit <= 65535)) {
    throw new Unprocessable(`The specified url port ${portText} is not valid (1-65535).`);
  }
  let u: URL;
  try {
    // WHATWG URL only parses host/port/userinfo for "special" schemes; parse syslog urls as http to get them.
    u = new URL(transport === 'http' || transport === 'https' ? text : `http${text.slice(scheme.length)}`);
  } catch {
    throw new Unprocessable(`The specified url ${redact(text)} is not a valid url.`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new Unprocessable('The specified url has no host.');
  if (!net.isIP(host) && !HOSTNAME.test(host)) throw new Unprocessable(`The specified url host ${host} is not a valid host name.`);

  let port: number;
  if (explicit !== null) port = explicit;
  else if (transport === 'http') port = 80;
  else if (transport === 'https') port = 443;
  else throw new Unprocessable('The specified url has no port; syslog drains need host:port.');

  const target: DrainTarget = {
    transport,
    host,
    port,
    insecure: /^#?insecure$/i.test(u.hash),
    framing: u.searchParams.get('framing')?.toLowerCase() === 'newline' ? 'newline' : 'octet',
  };
  if (transport === 'http' || transport === 'https') {
    if (u.username !== '') target.username = decodeUserinfo(u.username);
    if (u.password !== '') target.password = decodeUserinfo(u.password);
    const endpoint = new URL(u.toString());
    endpoint.username = '';
    endpoint.password = '';
    endpoint.hash = '';
    target.endpoint = endpoint.toString();
  }
  return target;
}

/** The port as written (WHATWG URL drops a default port and rejects bad ones with a generic error). */
function explicitPort(text: string): string | null {
  const afterScheme = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const authority = afterScheme.split(/[/?#]/)[0];
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort);
  if (!m || m[2] === undefined) return null;
  return m[2] === '' ? '' : m[2];
}

/** Basic auth from the userinfo; a malformed %-escape is the caller's mistake (422), not a URIError. */
function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Unprocessable('The specified url has a malformed %-escape in its user name or password.');
  }
}

/** Error texts never echo a password the user typed. */
function redact(text: string): string {
  return text.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}
