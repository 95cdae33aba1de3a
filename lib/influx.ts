/** The one module that talks to InfluxDB, through the v1 HTTP API (/ping, /query, /write) that every
 * InfluxDB major version serves (DESIGN.md §1). Minimal for the foundation; the metrics work extends it. */
import http from 'node:http';
import https from 'node:https';
import { Unavailable } from './errors';

export interface InfluxOptions {
  url: string;
  db: string;
  token?: string;
  timeoutMs: number;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface InfluxStatementResult {
  statement_id: number;
  series?: InfluxSeries[];
  error?: string;
}

export interface Influx {
  ping(timeoutMs?: number): Promise<void>;
  /** Runs InfluxQL; `params` are bound by InfluxDB itself (never spliced into the text). */
  query(q: string, params?: Record<string, string | number>, opts?: { epoch?: 's' | 'ms' }): Promise<InfluxStatementResult[]>;
  /** Writes line-protocol text. */
  write(lines: string, precision?: 's' | 'ms' | 'n'): Promise<void>;
  close(): void;
}

export function createInflux(opts: InfluxOptions): Influx {
  const base = new URL(opts.url);
  const lib = base.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 32 });

  function request(method: string, path: string, query: Record<string, string>, body?: string, timeoutMs = opts.timeoutMs) {
    const u = new URL(path, base);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (opts.token) headers.Authorization = `Token ${opts.token}`;
    if (body !== undefined) {
      headers['Content-Type'] = method === 'POST' && path === '/query' ? 'application/x-www-form-urlencoded' : 'text/plain; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = lib.request(u, { method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(new Unavailable('InfluxDB', e.message)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new Unavailable('InfluxDB', e.message)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  return {
    async ping(timeoutMs) {
      const res = await request('GET', '/ping', {}, undefined, timeoutMs ?? opts.timeoutMs);
      if (res.status !== 204 && res.status !== 200) throw new Unavailable('InfluxDB', `ping answered ${res.status}`);
    },
    async query(q, params, qopts) {
      const form = new URLSearchParams({ db: opts.db, q, epoch: qopts?.epoch ?? 's' });
      if (params) form.set('params', JSON.stringify(params));
      const res = await request('POST', '/query', {}, form.toString());
      let parsed: { results?: InfluxStatementResult[]; error?: string };
      try {
        parsed = JSON.parse(res.body);
      } catch {
        throw new Unavailable('InfluxDB', `unparseable answer (${res.status})`);
      }
      if (res.status >= 500) throw new Unavailable('InfluxDB', parsed.error ?? `status ${res.status}`);
      if (res.status >= 400 || parsed.error) throw new Error(`InfluxDB query failed: ${parsed.error ?? res.status}`);
      return parsed.results ?? [];
    },
    async write(lines, precision = 's') {
      const res = await request('POST', '/write', { db: opts.db, precision }, lines);
      if (res.status >= 500) throw new Unavailable('InfluxDB', res.body);
      if (res.status !== 204) throw new Error(`InfluxDB write failed (${res.status}): ${res.body}`);
    },
    close() {
      agent.destroy();
    },
  };
}
