/** The client's HTTP behaviour (credentials, deadlines, errors) against a local stand-in server: these pin what
 * logway sends and how it gives up, not InfluxDB's answers (those are in spec/integration/metrics*.spec.ts). */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { createInflux, InfluxError } from '../../lib/influx';
import { Unavailable } from '../../lib/errors';

interface Seen {
  method?: string;
  url?: string;
  auth?: string;
  body: string;
}

let server: http.Server;
let base: string;
let behaviour: (req: http.IncomingMessage, res: http.ServerResponse) => void;
let seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      behaviour(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  behaviour = (_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ results: [{ statement_id: 0 }] }));
  };
});

describe('influx client', () => {
  it('sends InfluxQL and bound parameters as form fields, never spliced into the statement', async () => {
    const influx = createInflux({ url: base, db: 'd', timeoutMs: 1000 });
    await influx.query('SELECT value FROM m WHERE app = $app', { app: `x' OR 1=1; DROP DATABASE d` });
    influx.close();
    const form = new URLSearchParams(seen[0].body);
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url).toBe('/query');
    expect(form.get('q')).toBe('SELECT value FROM m WHERE app = $app');
    expect(JSON.parse(form.get('params')!)).toEqual({ app: `x' OR 1=1; DROP DATABASE d` });
    expect(form.get('db')).toBe('d');
    expect(form.get('epoch')).toBe('s');
    expect(influx.stats().queries).toBe(1);
  });

  it('a plain token goes as `Token`, user:password as Basic, and in query mode as u/p', async () => {
    const a = createInflux({ url: base, db: 'd', timeoutMs: 1000, token: 'tok123' });
    const b = createInflux({ url: base, db: 'd', timeoutMs: 1000, token: 'admin:s3cret' });
    const c = createInflux({ url: base, db: 'd', timeoutMs: 1000, token: 'tok123', authMode: 'query' });
    for (const i of [a, b, c]) {
      await i.query('SHOW DATABASES');
      i.close();
    }
    expect(seen[0].auth).toBe('Token tok123');
    expect(seen[1].auth).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    expect(seen[2].auth).toBeUndefined();
    const q = new URL(seen[2].url!, base).searchParams;
    expect(q.get('p')).toBe('tok123');
    expect(q.get('u')).toBe('logway');
  });

  it('writes line protocol to /write with db and precision', async () => {
    behaviour = (_req, res) => {
      res.statusCode = 204;
      res.end();
    };
    const influx = createInflux({ url: base, db: 'd', timeoutMs: 1000 });
    await influx.writePoints([{ measurement: 'm', tags: { app: 'a b' }, fields: { value: 1 }, timestamp: 5 }], 's', { db: 'other' });
    influx.close();
    expect(seen[0].url).toBe('/write?db=other&precision=s');
    expect(seen[0].body).toBe('m,app=a\\ b value=1 5');
    expect(influx.stats().writes).toBe(1);
  });

  it('a server that trickles forever is cut at the whole-request deadline with a 503 naming InfluxDB', async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    };
    const influx = createInflux({ url: base, db: 'd', timeoutMs: 300 });
    const err = await influx.query('SHOW DATABASES').catch((e) => e);
    influx.close();
    expect(err).toBeInstanceOf(Unavailable);
    expect(err.status).toBe(503);
    expect(err.message).toBe('InfluxDB is unavailable: no answer within 300 ms.');
  });

  it('a refused connection is a 503 naming InfluxDB', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const influx = createInflux({ url: `http://127.0.0.1:${port}`, db: 'd', timeoutMs: 1000 });
    const err = await influx.ping().catch((e) => e);
    influx.close();
    expect(err).toBeInstanceOf(Unavailable);
    expect(err.message).toMatch(/^InfluxDB is unavailable: ECONNREFUSED/);
  });

  it('statement errors and 4xx are InfluxErrors (bugs, not outages); 5xx is Unavailable', async () => {
    behaviour = (_req, res) => res.end(JSON.stringify({ results: [{ statement_id: 0 }, { statement_id: 1, error: 'boom' }] }));
    const influx = createInflux({ url: base, db: 'd', timeoutMs: 1000 });
    await expect(influx.query('A; B')).rejects.toThrow(new InfluxError('InfluxDB statement 1 failed: boom'));
    behaviour = (_req, res) => {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'error parsing query' }));
    };
    await expect(influx.query('x')).rejects.toBeInstanceOf(InfluxError);
    behaviour = (_req, res) => {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'overloaded' }));
    };
    await expect(influx.query('x')).rejects.toThrow('InfluxDB is unavailable: overloaded.');
    influx.close();
  });
});
