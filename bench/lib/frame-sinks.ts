/**
 * The drain benchmarks' sinks, in the bench's own process: a TLS syslog server that counts RFC6587
 * octet-counted frames and an HTTPS server that counts Logplex-Msg-Count, each with the time of the
 * first and the last line received.
 */
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { TestCert } from '../../spec/helpers/test-cert';

/** Totals over every connection of the TLS sink. */
export class FrameCounter {
  count = 0;
  first = 0;
  last = 0;
}

/** Counts RFC6587 octet-counted frames of one connection, across chunk boundaries. */
class FrameParser {
  private need = -1;
  private digits = '';
  constructor(private totals: () => FrameCounter) {}
  feed(buf: Buffer): void {
    const t = this.totals();
    let count = 0;
    let i = 0;
    while (i < buf.length) {
      if (this.need > 0) {
        const take = Math.min(this.need, buf.length - i);
        this.need -= take;
        i += take;
        if (this.need === 0) {
          count++;
          this.need = -1;
        }
        continue;
      }
      const c = buf[i++];
      if (c === 0x20) {
        this.need = Number(this.digits);
        this.digits = '';
      } else if (c >= 0x30 && c <= 0x39) this.digits += String.fromCharCode(c);
    }
    if (count > 0) {
      const now = performance.now();
      t.count += count;
      if (!t.first) t.first = now;
      t.last = now;
    }
  }
}

export interface Sinks {
  tlsPort: number;
  httpsPort: number;
  tls: FrameCounter;
  https: { count: number; first: number; last: number; requests: number };
  close(): Promise<void>;
  reset(): void;
}

export async function startSinks(cert: TestCert): Promise<Sinks> {
  const sinks = {
    tls: new FrameCounter(),
    https: { count: 0, first: 0, last: 0, requests: 0 },
  } as Sinks;
  const sockets = new Set<net.Socket>();
  const tlsServer = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => {
    const parser = new FrameParser(() => sinks.tls);
    s.on('data', (d: Buffer) => parser.feed(d));
    s.on('error', () => undefined);
  });
  const httpsServer = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now();
      const h = sinks.https;
      h.count += Number(req.headers['logplex-msg-count'] ?? 0);
      h.requests++;
      if (!h.first) h.first = now;
      h.last = now;
      res.writeHead(200);
      res.end();
    });
  });
  for (const srv of [tlsServer, httpsServer]) srv.on('connection', (s: net.Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => httpsServer.listen(0, '127.0.0.1', r));
  sinks.tlsPort = (tlsServer.address() as net.AddressInfo).port;
  sinks.httpsPort = (httpsServer.address() as net.AddressInfo).port;
  sinks.reset = () => {
    sinks.tls = new FrameCounter();
    sinks.https = { count: 0, first: 0, last: 0, requests: 0 };
  };
  sinks.close = async () => {
    sockets.forEach((s) => s.destroy());
    await Promise.all([new Promise((r) => tlsServer.close(r)), new Promise((r) => httpsServer.close(r))]);
  };
  return sinks;
}
