/** The one module that talks to InfluxDB, through the v1 HTTP API (/ping, /query, /write) that every
 * InfluxDB major version serves (docs/design.md §1): 1.x natively, 2.x through DBRP mappings, 3.x Core/Enterprise.
 *
 * Credentials: a token `user:password` is sent as HTTP Basic (InfluxDB 1.x users; 2.x accepts it too),
 * any other token as `Authorization: Token <token>` (2.x, 3.x), or, with `authMode: 'query'`, as the
 * `u`/`p` query parameters (the v1 compatibility form every version accepts, for proxies that drop headers).
 */
import http from 'node:http';
import https from 'node:https';
import { Unavailable } from './errors';
import type { DependencyTracker } from './dependencies';

export interface InfluxOptions {
  url: string;
  db: string;
  token?: string;
  /** Whole-request deadline: no answer within it is a 503 naming InfluxDB, never a hanging request. */
  timeoutMs: number;
  /** How the token travels: `header` (default: Basic for `user:password`, else `Token`) or `query` (`u`/`p`). */
  authMode?: 'header' | 'query';
  maxSockets?: number;
  /** Told of every outage (no answer, 5xx, credentials refused) and of every answer. */
  dependencies?: DependencyTracker;
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

/** Bound-parameter values: InfluxDB substitutes them as literals, so they can never change the statement. */
export type InfluxParams = Record<string, string | number | boolean>;

export type FieldValue = number | bigint | string | boolean;

export interface InfluxPoint {
  measurement: string;
  tags?: Record<string, string | undefined>;
  /** number → float, bigint → integer (`42i`), string → quoted string, boolean → true/false. */
  fields: Record<string, FieldValue>;
  /** In the write's precision unit (seconds by default); omitted → InfluxDB's clock. */
  timestamp?: number | bigint;
}

export interface InfluxStats {
  queries: number;
  writes: number;
  failures: number;
}

export interface Influx {
  ping(timeoutMs?: number): Promise<void>;
  /** Runs InfluxQL (one or several `;`-separated statements); `params` are bound by InfluxDB itself
   * (`WHERE app = $app`), never spliced into the text. Any statement error rejects. */
  query(q: string, params?: InfluxParams, opts?: { epoch?: 's' | 'ms' | 'u' | 'ns'; timeoutMs?: number }): Promise<InfluxStatementResult[]>;
  /** Writes line-protocol text (see `toLineProtocol` / `writePoints`). */
  write(lines: string, precision?: 's' | 'ms' | 'u' | 'n', opts?: { db?: string }): Promise<void>;
  writePoints(points: InfluxPoint[], precision?: 's' | 'ms' | 'u' | 'n', opts?: { db?: string }): Promise<void>;
  /** Requests sent so far (tests count them to prove a cache hit never reached InfluxDB). */
  stats(): InfluxStats;
  readonly db: string;
  close(): void;
}

/** A /query or /write that InfluxDB rejected as wrong (4xx or a statement error): a bug or bad data, not an outage. */
export class InfluxError extends Error {
  constructor(
    message: string,
    public status?: number,
  ) {
    super(message);
    this.name = 'InfluxError';
  }
}

// ---------------------------------------------------------------------------------------------
// Line protocol (InfluxDB 1.x "Line protocol reference", the same grammar 2.x/3.x accept).
// node-influx's `escape.tag` was considered: it escapes `,= ` but also rewrites `\'` to `\\'`
// and lets newlines and ambiguous backslashes through, which corrupt or split lines. So: ours.
// ---------------------------------------------------------------------------------------------

/** Names and tag values the line protocol cannot carry at all: newlines end a line, and a backslash
 * before a special character or at the end is read back differently (InfluxDB keeps other backslashes literally). */
function assertRepresentable(what: string, s: string, specials: RegExp): void {
  if (s === '') throw new InfluxError(`line protocol: empty ${what}`);
  if (/[\r\n]/.test(s)) throw new InfluxError(`line protocol: ${what} ${JSON.stringify(s)} contains a newline`);
  if (/\\$/.test(s) || specials.test(s)) {
    throw new InfluxError(`line protocol: ${what} ${JSON.stringify(s)} has a backslash that cannot be escaped`);
  }
}

/** Measurement names: comma and space are escaped; a leading `#` would make the line a comment. */
export function escapeMeasurement(name: string): string {
  assertRepresentable('measurement', name, /\\[, ]/);
  if (name.startsWith('#')) throw new InfluxError(`line protocol: measurement ${JSON.stringify(name)} starts with #`);
  return name.replace(/[, ]/g, '\\$&');
}

/** Tag keys, tag values and field keys: comma, equals sign and space are escaped. */
export function escapeKey(s: string, what = 'tag key'): string {
  assertRepresentable(what, s, /\\[,= ]/);
  return s.replace(/[,= ]/g, '\\$&');
}

export const escapeTagValue = (s: string): string => escapeKey(s, 'tag value');

/** String field values: double-quoted, with `"` and `\` escaped (newlines are allowed inside). */
export function quoteStringField(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

export function formatFieldValue(key: string, v: FieldValue): string {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new InfluxError(`line protocol: field ${key} is not a finite number (${v})`);
      return String(v);
    case 'bigint':
      return `${v}i`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return quoteStringField(v);
    default:
      throw new InfluxError(`line protocol: field ${key} has an unsupported type`);
  }
}

/** One point as one line. Tags are sorted by key (what InfluxDB recommends); empty or undefined tags are
 * left out (InfluxDB treats a missing tag and an empty one alike, and rejects `k=`). */
export function toLineProtocol(p: InfluxPoint): string {
  let line = escapeMeasurement(p.measurement);
  if (p.tags) {
    for (const k of Object.keys(p.tags).sort()) {
      const v = p.tags[k];
      if (v === undefined || v === '') continue;
      line += `,${escapeKey(k)}=${escapeTagValue(v)}`;
    }
  }
  const fields = Object.entries(p.fields);
  if (fields.length === 0) throw new InfluxError(`line protocol: point ${p.measurement} has no fields`);
  line += ' ' + fields.map(([k, v]) => `${escapeKey(k, 'field key')}=${formatFieldValue(k, v)}`).join(',');
  if (p.timestamp !== undefined) {
    if (typeof p.timestamp === 'number' && !Number.isSafeInteger(p.timestamp)) {
      throw new InfluxError(`line protocol: timestamp ${p.timestamp} is not an integer`);
    }
    line += ` ${p.timestamp}`;
  }
  return line;
}

// ---------------------------------------------------------------------------------------------

export function createInflux(opts: InfluxOptions): Influx {
  const base = new URL(opts.url);
  const lib = base.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32 });
  const counters: InfluxStats = { queries: 0, writes: 0, failures: 0 };
  const authQuery: Record<string, string> = {};
  const authHeaders: Record<string, string> = {};
  if (opts.token) {
    const colon = opts.token.indexOf(':');
    if (opts.authMode === 'query') {
      authQuery.u = colon > 0 ? opts.token.slice(0, colon) : 'logway';
      authQuery.p = colon > 0 ? opts.token.slice(colon + 1) : opts.token;
    } else if (colon > 0) {
      authHeaders.Authorization = `Basic ${Buffer.from(opts.token).toString('base64')}`;
    } else {
      authHeaders.Authorization = `Token ${opts.token}`;
    }
  }

  /** An outage InfluxDB answered (5xx, credentials refused, garbage): reported like a connection failure. */
  function outage(detail: string): Unavailable {
    const e = new Unavailable('InfluxDB', detail);
    opts.dependencies?.failed(e);
    return e;
  }

  function request(method: string, path: string, query: Record<string, string>, body: string | undefined, timeoutMs: number) {
    const askedAt = Date.now();
    return send(method, path, query, body, timeoutMs).then(
      (res) => {
        // 5xx and 401/403 are outages for the callers below; any other answer means InfluxDB is there.
        if (res.status < 500 && res.status !== 401 && res.status !== 403) opts.dependencies?.up('influxdb', askedAt);
        return res;
      },
      (e) => {
        opts.dependencies?.failed(e, askedAt);
        throw e;
      },
    );
  }

  function send(method: string, path: string, query: Record<string, string>, body: string | undefined, timeoutMs: number) {
    const u = new URL(path, base);
    for (const [k, v] of Object.entries({ ...query, ...authQuery })) u.searchParams.set(k, v);
    const headers: Record<string, string> = { ...authHeaders };
    if (body !== undefined) {
      headers['Content-Type'] = path === '/query' ? 'application/x-www-form-urlencoded' : 'text/plain; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      let settled = false;
      const fail = (detail: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        counters.failures++;
        reject(new Unavailable('InfluxDB', detail));
      };
      // A whole-request deadline: the socket `timeout` option only notices silence, not a slow trickle.
      const timer = setTimeout(() => {
        fail(`no answer within ${timeoutMs} ms`);
        req.destroy();
      }, timeoutMs);
      const req = lib.request(u, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => fail(e.message));
        res.on('aborted', () => fail('connection closed mid-answer'));
      });
      req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ? `${e.code} ${base.host}` : e.message));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async function write(lines: string, precision: 's' | 'ms' | 'u' | 'n' = 's', wopts?: { db?: string }) {
    counters.writes++;
    const res = await request('POST', '/write', { db: wopts?.db ?? opts.db, precision }, lines, opts.timeoutMs);
    if (res.status === 204 || res.status === 200) return;
    const detail = errorText(res.body) ?? `status ${res.status}`;
    if (res.status === 401 || res.status === 403) throw outage(`credentials rejected (status ${res.status})`);
    if (res.status >= 500) {
      counters.failures++;
      throw outage(detail);
    }
    throw new InfluxError(`InfluxDB write failed (${res.status}): ${detail}`, res.status);
  }

  return {
    db: opts.db,
    async ping(timeoutMs) {
      const res = await request('GET', '/ping', {}, undefined, timeoutMs ?? opts.timeoutMs);
      if (res.status !== 204 && res.status !== 200) throw outage(`ping answered ${res.status}`);
    },
    async query(q, params, qopts) {
      counters.queries++;
      const form = new URLSearchParams({ db: opts.db, q, epoch: qopts?.epoch ?? 's' });
      if (params) form.set('params', JSON.stringify(params));
      const res = await request('POST', '/query', {}, form.toString(), qopts?.timeoutMs ?? opts.timeoutMs);
      let parsed: { results?: InfluxStatementResult[]; error?: string };
      try {
        parsed = JSON.parse(res.body);
      } catch {
        counters.failures++;
        throw outage(`unparseable answer (status ${res.status})`);
      }
      if (res.status >= 500) {
        counters.failures++;
        throw outage(parsed.error ?? `status ${res.status}`);
      }
      if (res.status === 401 || res.status === 403) {
        counters.failures++;
        throw outage(`credentials rejected (status ${res.status})`);
      }
      if (res.status >= 400 || parsed.error) throw new InfluxError(`InfluxDB query failed: ${parsed.error ?? res.status}`, res.status);
      const results = parsed.results ?? [];
      const bad = results.find((r) => r.error);
      if (bad) throw new InfluxError(`InfluxDB statement ${bad.statement_id} failed: ${bad.error}`, res.status);
      return results;
    },
    write,
    async writePoints(points, precision = 's', wopts) {
      if (points.length === 0) return;
      await write(points.map(toLineProtocol).join('\n'), precision, wopts);
    },
    stats: () => ({ ...counters }),
    close() {
      agent.destroy();
    },
  };
}

function errorText(body: string): string | undefined {
  try {
    const e = JSON.parse(body) as { error?: string };
    return e.error;
  } catch {
    return body.trim() || undefined;
  }
}
