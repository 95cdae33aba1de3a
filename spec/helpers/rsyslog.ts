/**
 * A real syslog receiver for drain tests: Debian's rsyslogd run as a child process with a config of
 * ours in a temp dir, listening on loopback TCP (imptcp), TLS (imtcp + gtls with the test cert) and
 * UDP (imudp), writing each message it receives to a file per listener (raw, and parsed fields).
 */
import { ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestCert } from './test-cert';

export type Listener = 'tcp' | 'tls' | 'udp';

export interface ParsedSyslog {
  version: string;
  hostname: string;
  appName: string;
  procId: string;
  msg: string;
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function rsyslogAvailable(): boolean {
  return ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].some((p) => fs.existsSync(p));
}

export class Rsyslog {
  readonly dir: string;
  tcpPort = 0;
  tlsPort = 0;
  udpPort = 0;
  private proc: ChildProcess | null = null;
  private conf: string;

  constructor(private cert: TestCert) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logway-rsyslog-'));
    this.conf = path.join(this.dir, 'rsyslog.conf');
  }

  file(which: Listener, kind: 'raw' | 'parsed' = 'raw'): string {
    return path.join(this.dir, `${which}.${kind === 'raw' ? 'log' : 'parsed'}`);
  }

  private writeConfig(): void {
    fs.mkdirSync(path.join(this.dir, 'work'), { recursive: true });
    const rules = (['tcp', 'tls', 'udp'] as Listener[])
      .map(
        (l) => `ruleset(name="${l}") {
  action(type="omfile" file="${this.file(l)}" template="raw")
  action(type="omfile" file="${this.file(l, 'parsed')}" template="parsed")
}`,
      )
      .join('\n');
    fs.writeFileSync(
      this.conf,
      `global(workDirectory="${path.join(this.dir, 'work')}" maxMessageSize="128k"
  defaultNetstreamDriverCAFile="${this.cert.caFile}"
  defaultNetstreamDriverCertFile="${this.cert.certFile}"
  defaultNetstreamDriverKeyFile="${this.cert.keyFile}")
# Direct: a message is in the file before the input reads the next one (nothing held in rsyslog's memory).
main_queue(queue.type="Direct")
module(load="imptcp")
module(load="imudp")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="parsed" type="string" string="%protocol-version%\\t%hostname%\\t%app-name%\\t%procid%\\t%msg%\\n")
${rules}
input(type="imptcp" port="${this.tcpPort}" address="127.0.0.1" ruleset="tcp")
input(type="imtcp" port="${this.tlsPort}" address="127.0.0.1" ruleset="tls")
input(type="imudp" port="${this.udpPort}" address="127.0.0.1" ruleset="udp" rcvbufSize="4m")
`,
    );
  }

  /** Picks the ports and writes the config without starting (a sink that is down at first). */
  async prepare(): Promise<void> {
    if (this.tcpPort) return;
    this.tcpPort = await freeTcpPort();
    this.tlsPort = await freeTcpPort();
    this.udpPort = await freeUdpPort();
    this.writeConfig();
  }

  /** Starts rsyslogd (same ports on a restart) and waits until its TCP and TLS listeners accept. */
  async start(): Promise<void> {
    await this.prepare();
    const err = fs.openSync(path.join(this.dir, 'rsyslogd.err'), 'a');
    this.proc = spawn('rsyslogd', ['-n', '-f', this.conf, '-i', path.join(this.dir, 'rsyslogd.pid')], {
      stdio: ['ignore', err, err],
    });
    fs.closeSync(err);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) break;
      if ((await canConnect(this.tcpPort)) && (await canConnect(this.tlsPort))) {
        // imudp binds in the same start-up; give it a beat after the TCP listeners.
        await new Promise((r) => setTimeout(r, 100));
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const log = fs.readFileSync(path.join(this.dir, 'rsyslogd.err'), 'utf8');
    throw new Error(`rsyslogd did not start: ${log.slice(-2000)}`);
  }

  /** Kills rsyslogd (SIGKILL by default: the sink dies mid-stream) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
    fs.rmSync(path.join(this.dir, 'rsyslogd.pid'), { force: true });
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null;
  }

  lines(which: Listener, kind: 'raw' | 'parsed' = 'raw'): string[] {
    const f = this.file(which, kind);
    if (!fs.existsSync(f)) return [];
    return fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  }

  parsed(which: Listener): ParsedSyslog[] {
    return this.lines(which, 'parsed').map((l) => {
      const [version, hostname, appName, procId, ...rest] = l.split('\t');
      return { version, hostname, appName, procId, msg: rest.join('\t') };
    });
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
