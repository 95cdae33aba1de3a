/** Shared bits of the drain integration tests: Akkeris app-log messages, syslog frame parsing, an HTTPS receiver, polling. */
import type http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Core } from '../../lib/core';
import type { TestCert } from './test-cert';
import { appMessage } from './app-message';
import { waitFor as waitForState } from './wait';

export interface ProducedLine {
  dyno: string;
  seq: number;
  message: string;
}

/** Fluentd JSON as an app container writes it to its space's topic (docs/design.md §2); dyno = web.<pod suffix>. */
export function appLog(app: string, space: string, podSuffix: string, text: string, stream = 'stdout'): string {
  return appMessage(app, space, text, new Date(), { pod: `${app}-web-${podSuffix}`, stream });
}

/**
 * Produces `count` lines for `app`, spread over `dynos` pods (keyed by pod so each dyno stays on
 * one partition, as fluentd's key does), messages `<tag> <dyno> <seq>`. Sent in chunks of `chunk`.
 */
export async function produceLines(
  core: Core,
  opts: { app: string; space: string; tag: string; count: number; dynos?: number; chunk?: number; pad?: number; pauseMs?: number },
): Promise<ProducedLine[]> {
  const dynos = opts.dynos ?? 3;
  const out: ProducedLine[] = [];
  const chunk = opts.chunk ?? 500;
  let batch: { key: string; value: string }[] = [];
  for (let i = 0; i < opts.count; i++) {
    const suffix = `1562910588-d${i % dynos}`;
    const dyno = `web.${suffix}`;
    const message = `${opts.tag} ${dyno} ${i}${opts.pad ? ` ${'x'.repeat(opts.pad)}` : ''}`;
    out.push({ dyno, seq: i, message });
    batch.push({ key: `${opts.app}-web-${suffix}`, value: appLog(opts.app, opts.space, suffix, message) });
    if (batch.length === chunk) {
      await core.kafka.produce(opts.space, batch);
      batch = [];
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  }
  if (batch.length) await core.kafka.produce(opts.space, batch);
  return out;
}

export interface Rfc5424 {
  pri: number;
  version: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: string;
  msg: string;
}

const RFC5424 = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?(.*)$/s;

export function parseRfc5424(text: string): Rfc5424 | null {
  const m = RFC5424.exec(text);
  if (!m) return null;
  return { pri: Number(m[1]), version: m[2], timestamp: m[3], hostname: m[4], appName: m[5], procId: m[6], msgId: m[7], sd: m[8], msg: m[9] };
}

/** RFC6587 octet-counted frames → messages; throws on a malformed body. */
export function splitOctetCounted(body: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) throw new Error(`no frame length at byte ${i}`);
    const len = Number(body.subarray(i, sp).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) throw new Error(`bad frame length at byte ${i}`);
    out.push(body.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    i = sp + 1 + len;
  }
  return out;
}

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  status: number;
  messages: string[];
}

/** A node https server with the test cert; `answer` picks each request's status (and may hold it). */
export class HttpsReceiver {
  requests: ReceivedRequest[] = [];
  port = 0;
  private server: https.Server;
  private sockets = new Set<net.Socket>();
  answer: (req: ReceivedRequest, n: number) => number | Promise<number> = () => 200;

  constructor(cert: TestCert) {
    this.server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.respond(req.url ?? '', req.headers, Buffer.concat(chunks), res));
    });
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  private async respond(path: string, headers: http.IncomingHttpHeaders, body: Buffer, res: http.ServerResponse): Promise<void> {
    const r: ReceivedRequest = { path, headers, body, status: 0, messages: [] };
    try {
      r.messages = splitOctetCounted(body);
    } catch {
      r.messages = [];
    }
    const n = this.requests.filter((x) => x.path === r.path).length;
    this.requests.push(r);
    r.status = await this.answer(r, n);
    if (res.destroyed) return;
    res.writeHead(r.status, { 'Content-Type': 'text/plain' });
    res.end();
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Messages of 2xx-answered requests to a path, in arrival order. */
  delivered(path: string): string[] {
    return this.requests.filter((r) => r.path === path && r.status >= 200 && r.status < 300).flatMap((r) => r.messages);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** waitFor of spec/helpers/wait.ts with the drain specs' argument order and defaults. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  await waitForState(what, cond, timeoutMs, everyMs);
}

/** Message text → how many times it arrived. */
export function tally(messages: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of messages) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Checks every dyno's lines arrived in produced order (first arrival of each line). */
export function inOrderPerDyno(messages: string[]): boolean {
  const last = new Map<string, number>();
  const seen = new Set<string>();
  for (const m of messages) {
    if (seen.has(m)) continue;
    seen.add(m);
    const [, dyno, seq] = m.split(' ');
    const n = Number(seq);
    if ((last.get(dyno) ?? -1) > n) return false;
    last.set(dyno, n);
  }
  return true;
}
