/** A whole logway node as bin/server starts it: HTTPS (what `aka` needs to open logplex_url), a session
 * served end to end over TLS, and a graceful stop that ends open streams cleanly. */
import https from 'node:https';
import net from 'node:net';
import { startServer, RunningServer } from '../../bin/wiring';
import { createTestCore, testConfig, uniqueName, TEST_API_KEY } from '../helpers/env';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { appMessage } from '../helpers/app-message';
import { waitFor } from '../helpers/wait';
import { closeCore, Core } from '../../lib/core';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function httpsRequest(url: string, ca: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', ca, headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

let cert: TestCert;
let node: RunningServer;
let producer: Core;
let port: number;
const space = uniqueName('srv');
const appKey = `api-${space}`;

beforeAll(async () => {
  cert = makeTestCert();
  port = await freePort();
  const config = testConfig({
    PORT: String(port),
    TLS_CERT_FILE: cert.certFile,
    TLS_KEY_FILE: cert.keyFile,
    PUBLIC_URL: `https://localhost:${port}`,
  });
  producer = createTestCore();
  await producer.kafka.createTopic(space, 1);
  await producer.kafka.produce(
    space,
    ['first line', 'second line'].map((l) => ({ value: appMessage('api', space, l) })),
  );
  await producer.apps.register(appKey);
  node = await startServer(config, { features: { drains: { worker: false }, builds: { consume: false } } });
});

afterAll(async () => {
  await node?.stop();
  await closeCore(producer);
});

it('serves the API and the logplex_url over HTTPS, with history read back from Kafka', async () => {
  const created = await httpsRequest(`https://localhost:${port}/apps/${appKey}/log-sessions`, cert.ca, {
    method: 'POST',
    body: JSON.stringify({ lines: 5, tail: false }),
    headers: { Authorization: TEST_API_KEY, 'Content-Type': 'application/json' },
  });
  expect(created.status).toBe(201);
  const { logplex_url: url } = JSON.parse(created.body);
  expect(url).toMatch(new RegExp(`^https://localhost:${port}/log-sessions/`));
  const stream = await httpsRequest(url, cert.ca);
  expect(stream.status).toBe(200);
  const lines = stream.body.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${appKey} app\\[web\\.1562910588-cg82f\\]: first line$`));
  expect(lines[1]).toMatch(/ app\[web\.1562910588-cg82f\]: second line$/);
});

it('ends open tail streams cleanly on stop', async () => {
  const created = await httpsRequest(`https://localhost:${port}/apps/${appKey}/log-sessions`, cert.ca, {
    method: 'POST',
    body: JSON.stringify({ lines: 1, tail: true }),
    headers: { Authorization: TEST_API_KEY, 'Content-Type': 'application/json' },
  });
  const { logplex_url: url } = JSON.parse(created.body);
  let received = '';
  const ended = new Promise<string>((resolve, reject) => {
    https
      .get(url, { ca: cert.ca }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c) => (received += c));
        res.on('end', () => resolve('end'));
        res.on('error', reject);
        res.on('aborted', () => resolve('aborted'));
      })
      .on('error', reject);
  });
  // Wait for the history line, so the stream is open and tailing before the node stops.
  await waitFor('the history line', () => received.includes('second line'));
  expect(received).toMatch(/second line\n$/);
  await node.stop();
  await expect(ended).resolves.toBe('end');
  const ready = await httpsRequest(`https://localhost:${port}/healthz`, cert.ca).catch((e: NodeJS.ErrnoException) => e.code);
  expect(ready).toBe('ECONNREFUSED');
});
