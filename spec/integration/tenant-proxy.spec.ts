/**
 * An honest upstream pass-through, against a real upstream on loopback and raw HTTP requests (no
 * client normalises the path or the headers): hop-by-hop fields, proxy credentials, forwarding
 * claims, dot-segments, and what an upstream response may carry onto the console's origin.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createUpstreamProxy } from '../../lib/proxy';
import { PROXIED_CSP } from '../../lib/proxy-headers';
import { createTestCore } from '../helpers/env';

jest.setTimeout(30000);

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let core: Core;
let upstream: http.Server;
let logway: http.Server;
let port: number;
const seen: Seen[] = [];

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  core = createTestCore();
  upstream = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers, body });
      res.setHeader('Content-Type', 'text/html');
      res.setHeader('Set-Cookie', ['session=upstream; Path=/', 'other=1']);
      res.setHeader('Connection', 'X-Upstream-Hop');
      res.setHeader('X-Upstream-Hop', 'secret');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('Proxy-Authenticate', 'Basic realm="upstream"');
      res.setHeader('Content-Security-Policy', "script-src 'unsafe-inline'");
      res.setHeader('X-Frame-Options', 'ALLOWALL');
      res.setHeader('X-Upstream', 'akkeris');
      res.end('<script>steal(sessionStorage)</script>');
    });
  });
  const upstreamUrl = `http://127.0.0.1:${await listen(upstream)}`;
  logway = http.createServer(createApp(core, [], { fallback: createUpstreamProxy(upstreamUrl, core.logger) }));
  port = await listen(logway);
});

afterAll(async () => {
  logway.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => logway.close(r));
  await new Promise((r) => upstream.close(r));
  await closeCore(core);
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request exactly as written: path and headers untouched by any client library. */
function raw(path: string, headers: http.OutgoingHttpHeaders = {}, body?: string | string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

async function forwarded(path: string, headers: http.OutgoingHttpHeaders = {}, body?: string | string[]): Promise<Seen> {
  seen.length = 0;
  const res = await raw(path, headers, body);
  expect(res.status).toBe(200);
  expect(seen).toHaveLength(1);
  return seen[0];
}

describe('request headers', () => {
  it('drops hop-by-hop fields and every field Connection names (RFC 9110 §7.6.1), keeps end-to-end ones', async () => {
    const s = await forwarded('/apps', {
      Connection: 'keep-alive, X-Hop-Secret, x-other-hop',
      'X-Hop-Secret': 'for logway only',
      'X-Other-Hop': '1',
      'Keep-Alive': 'timeout=5',
      'Proxy-Connection': 'keep-alive',
      TE: 'trailers',
      Upgrade: 'h2c',
      Authorization: 'akkeris-token',
      'X-End-To-End': 'kept',
    });
    for (const name of ['x-hop-secret', 'x-other-hop', 'keep-alive', 'proxy-connection', 'te', 'upgrade']) expect(s.headers[name]).toBeUndefined();
    expect(s.headers.connection ?? 'keep-alive').not.toMatch(/hop/i);
    expect(s.headers.authorization).toBe('akkeris-token');
    expect(s.headers['x-end-to-end']).toBe('kept');
  });

  it('never forwards Proxy-Authorization', async () => {
    const s = await forwarded('/apps', { 'Proxy-Authorization': 'Basic c2VjcmV0OnNlY3JldA==' });
    expect(s.headers['proxy-authorization']).toBeUndefined();
  });

  it('sets X-Forwarded-For/-Host/-Proto and X-Real-IP itself, replacing what the caller sent', async () => {
    const s = await forwarded('/apps', {
      Host: 'logway.example.com',
      'X-Forwarded-For': '6.6.6.6',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Port': '443',
      'X-Real-IP': '6.6.6.6',
      Forwarded: 'for=6.6.6.6;host=evil.example',
    });
    expect(s.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(s.headers['x-real-ip']).toBe('127.0.0.1');
    expect(s.headers['x-forwarded-host']).toBe('logway.example.com');
    expect(s.headers['x-forwarded-proto']).toBe('http');
    expect(s.headers['x-forwarded-port']).toBeUndefined();
    expect(s.headers.forwarded).toBeUndefined();
  });

  it('a chunked request body still streams through whole', async () => {
    const s = await forwarded('/apps/api-space/builds', { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' }, ['first ', 'second']);
    expect(s.body).toBe('first second');
    expect(s.headers['content-length']).toBeUndefined();
    expect(s.headers['transfer-encoding']).toBe('chunked');
  });
});

describe('paths', () => {
  it.each([
    '/apps/../admin',
    '/apps/..',
    '/./apps',
    '/apps/%2e%2e/admin',
    '/apps/%2E%2e/admin',
    '/apps/.%2E/admin',
    '/apps/%252e%252e/admin',
    '/apps/..%2fadmin',
    '/apps/..%5Cadmin',
    '/apps\\..\\admin',
    '/apps/%2e/x?q=1',
  ])('%s is refused with 400 and never reaches the upstream', async (path) => {
    seen.length = 0;
    const res = await raw(path);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ id: 'bad_request', message: 'The request path may not contain "." or ".." segments.' });
    expect(seen).toHaveLength(0);
  });

  it.each(['/apps/api.space', '/apps/...', '/apps/..x', '/apps?next=/../x'])('%s has no dot-segment and passes', async (path) => {
    const s = await forwarded(path);
    expect(s.url).toBe(path);
  });
});

describe('responses', () => {
  it('carry no upstream cookie or hop-by-hop field, and the console’s security headers', async () => {
    const res = await raw('/apps');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(res.headers['proxy-authenticate']).toBeUndefined();
    expect(res.headers.connection ?? '').not.toMatch(/upstream-hop/i);
    expect(res.headers['content-security-policy']).toBe(PROXIED_CSP);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-upstream']).toBe('akkeris');
    expect(res.body).toBe('<script>steal(sessionStorage)</script>');
  });
});
