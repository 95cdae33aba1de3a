/**
 * TLS drains end with close_notify: a real `openssl s_server` prints `DONE` when the peer closed
 * cleanly and `ERROR … unexpected eof while reading` when it did not (a bare FIN or a reset).
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { DestinationPolicy } from '../../drains/destination';
import type { OutBatch } from '../../drains/sender';
import { HttpTransport } from '../../drains/transports/http';
import { StreamTransport } from '../../drains/transports/syslog';
import { parseDrainUrl } from '../../drains/url';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { waitFor } from '../helpers/wait';

jest.setTimeout(30000);

let cert: TestCert;
let secureContext: tls.SecureContext;
const policy = new DestinationPolicy({ allowPrivate: false, allowCidrs: ['127.0.0.0/8', '::1/128'] });
const servers: ChildProcessWithoutNullStreams[] = [];

beforeAll(() => {
  cert = makeTestCert();
  secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, cert.ca] });
});

afterEach(() => {
  for (const s of servers.splice(0)) s.kill();
});

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** One-connection `openssl s_server`; its stdin stays open so it only ever closes after the peer. */
async function sServer(): Promise<{ port: number; output: () => string; reply: (text: string) => void }> {
  const port = await freePort();
  const child = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert.certFile, '-key', cert.keyFile, '-naccept', '1'], {
    stdio: 'pipe',
  });
  servers.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  await waitFor('s_server to accept', async () => out.includes('ACCEPT'));
  return { port, output: () => out, reply: (text) => child.stdin.write(text) };
}

function batch(text: string): OutBatch {
  const frame = Buffer.from(text, 'utf8');
  return {
    seq: 1,
    items: [],
    bytes: frame.length,
    frameId: 'f1',
    attempts: 0,
    firstAttemptAt: null,
    lastAttemptAt: null,
    lastError: '',
    payload: () => frame,
  };
}

/** What the server printed once the connection ended: `DONE` for a clean TLS close. */
async function closeSeen(output: () => string): Promise<string> {
  return waitFor('s_server to see the connection end', async () => (/^(DONE|ERROR)$/m.exec(output()) ?? [])[0]);
}

it('syslog+tls: close() (what a drain deletion, a shutdown and a worker stop call) sends close_notify', async () => {
  const server = await sServer();
  const transport = new StreamTransport(parseDrainUrl(`syslog+tls://localhost:${server.port}`), {
    policy,
    connectTimeoutMs: 5000,
    writeTimeoutMs: 5000,
    ackGraceMs: 0,
    secureContext,
  });
  await transport.send(batch('12 <14>1 hello\n'));
  await waitFor('the line at the receiver', async () => server.output().includes('<14>1 hello'));
  transport.close();
  expect(await closeSeen(server.output)).toBe('DONE');
  expect(server.output()).not.toMatch(/unexpected eof/);
});

it('https: closing the drain ends its idle keep-alive connection with close_notify', async () => {
  const server = await sServer();
  const transport = new HttpTransport(parseDrainUrl(`https://localhost:${server.port}/logs`), 'tok', { policy, timeoutMs: 5000, secureContext });
  const sent = transport.send(batch('12 <14>1 hello\n'));
  await waitFor('the request at the receiver', async () => server.output().includes('POST /logs'));
  server.reply('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n');
  await sent;
  transport.close();
  expect(await closeSeen(server.output)).toBe('DONE');
});
