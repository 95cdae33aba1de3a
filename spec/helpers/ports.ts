/**
 * Addresses for "the dependency is down". A port found free and closed again is not reserved: any
 * later listen(0) — supertest's per-request servers included — may be handed it, and then the
 * "down" dependency answers (a logway app answers JSON 404 to InfluxDB's POST /query).
 */
import http from 'node:http';
import net from 'node:net';

/** Port 1 is outside the ephemeral range and nothing listens there: connections are refused. */
export const REFUSED_PORT = 1;

/**
 * An HTTP dependency this spec switches off and on while holding its port the whole time: while
 * down, every connection is reset as it arrives; while up, `answer` serves requests.
 */
export class SwitchableServer {
  up = false;
  port = 0;
  private server: http.Server;
  private sockets = new Set<net.Socket>();

  constructor(answer: http.RequestListener) {
    this.server = http.createServer((req, res) => {
      if (this.up) answer(req, res);
      else req.socket.destroy();
    });
    this.server.on('connection', (s: net.Socket) => {
      if (!this.up) return void s.destroy();
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
