/** A streaming reader over a raw http request, for log-session streams (supertest buffers whole bodies; streams must be read as they come). */
import http from 'node:http';

export class Stream {
  text = '';
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  res?: http.IncomingMessage;
  private req: http.ClientRequest;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.req = http.get(url, { headers }, (res) => {
      this.res = res;
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        this.text += d;
        this.poke();
      });
      res.on('end', () => {
        this.ended = true;
        this.poke();
      });
      res.on('error', () => this.poke());
      this.poke();
    });
    this.req.on('error', () => {
      this.ended = true;
      this.poke();
    });
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Resolves when pred holds (checked on every chunk); rejects with what was read so far after the deadline. */
  async until(pred: (s: Stream) => boolean, ms = 20000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; read so far:\n${this.text.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  done(ms = 20000): Promise<void> {
    return this.until((s) => s.ended, ms, 'end of stream');
  }

  lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }

  /** SSE `data:` lines. */
  data(): string[] {
    return this.field('data');
  }

  /** SSE `id:` values. */
  ids(): string[] {
    return this.field('id');
  }

  private field(name: string): string[] {
    return this.text
      .split('\n')
      .filter((l) => l.startsWith(`${name}: `))
      .map((l) => l.slice(name.length + 2));
  }

  close(): void {
    this.req.destroy();
  }
}
