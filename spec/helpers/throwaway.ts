/**
 * Throwaway real services for outage specs: a PostgreSQL, an InfluxDB and a single-broker KRaft
 * Kafka of their own (temp dirs, free ports), which a spec may stop and start without touching the
 * shared stack other runs use. Same binaries and settings as scripts/stack.d/{postgres,influxdb,kafka}.sh.
 *
 * Each process is this test process's child; `stop()` waits for it to exit, `start()` brings it
 * back on the same port with the same data, and `destroy()` stops it and removes its directory
 * (also attempted on process exit, so a failed spec leaves no server behind).
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { STACK_DIR } from './env';
import { waitFor } from './wait';

const run = promisify(execFile);
const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of alive) p.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** A server process this helper starts and stops; subclasses say how to start it and when it is ready. */
abstract class Throwaway {
  protected proc?: ChildProcess;
  readonly dir: string;

  constructor(name: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `logway-${name}-`));
  }

  protected abstract spawnServer(): ChildProcess;
  protected abstract ready(): Promise<boolean>;
  protected stopSignal: NodeJS.Signals = 'SIGTERM';

  get running(): boolean {
    return this.proc !== undefined;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const p = this.spawnServer();
    this.proc = p;
    alive.add(p);
    let exited = false;
    p.once('exit', () => {
      exited = true;
      alive.delete(p);
    });
    await waitFor(
      `${this.constructor.name} in ${this.dir} to accept connections`,
      async () => {
        if (exited) throw new Error(`exited during start-up (see ${this.dir})`);
        return this.ready();
      },
      90_000,
      200,
    );
  }

  /** Stops the server and waits for its process to exit (SIGKILL if it takes more than 20 s). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(this.stopSignal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.readdirSync(root).sort((a, b) => Number(a) - Number(b));
  return path.join(root, versions[versions.length - 1], 'bin');
}

/** PostgreSQL as the `postgres` user (it refuses to run as root), trust auth on 127.0.0.1, role and database `logway`. */
export class ThrowawayPostgres extends Throwaway {
  readonly port: number;
  private uid: number;
  private gid: number;
  protected override stopSignal: NodeJS.Signals = 'SIGINT'; // fast shutdown

  private constructor(port: number) {
    super('pg');
    this.port = port;
    this.uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    this.gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  }

  /** initdb, start, and create the `logway` role and database (the caller migrates). */
  static async create(): Promise<ThrowawayPostgres> {
    const pg = new ThrowawayPostgres(await freePort());
    fs.chmodSync(pg.dir, 0o755);
    fs.mkdirSync(path.join(pg.dir, 'data'), { mode: 0o700 });
    fs.chownSync(pg.dir, pg.uid, pg.gid);
    fs.chownSync(path.join(pg.dir, 'data'), pg.uid, pg.gid);
    await run(path.join(pgBin(), 'initdb'), ['-D', path.join(pg.dir, 'data'), '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--auth=trust'], {
      uid: pg.uid,
      gid: pg.gid,
    });
    await pg.start();
    await run(
      path.join(pgBin(), 'psql'),
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(pg.port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-c',
        "CREATE ROLE logway LOGIN PASSWORD 'logway'",
        '-c',
        'CREATE DATABASE logway OWNER logway',
      ],
      {
        uid: pg.uid,
        gid: pg.gid,
      },
    );
    return pg;
  }

  get url(): string {
    return `postgres://logway:logway@127.0.0.1:${this.port}/logway`;
  }

  protected spawnServer(): ChildProcess {
    const log = fs.openSync(path.join(this.dir, 'postgres.log'), 'a');
    fs.fchownSync(log, this.uid, this.gid);
    // scripts/stack.d/postgres.sh's settings: a throw-away cluster trades durability for speed.
    return spawn(
      path.join(pgBin(), 'postgres'),
      [
        '-D',
        path.join(this.dir, 'data'),
        '-p',
        String(this.port),
        '-k',
        this.dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=50',
      ],
      { uid: this.uid, gid: this.gid, stdio: ['ignore', log, log] },
    );
  }

  protected async ready(): Promise<boolean> {
    try {
      await run(path.join(pgBin(), 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(this.port), '-t', '2']);
      return true;
    } catch {
      return false;
    }
  }
}

/** InfluxDB 1.x (`influxd run`) with its own config, dirs and ports. */
export class ThrowawayInflux extends Throwaway {
  private constructor(
    readonly port: number,
    private rpcPort: number,
  ) {
    super('influx');
  }

  static async create(): Promise<ThrowawayInflux> {
    const influx = new ThrowawayInflux(await freePort(), await freePort());
    const d = influx.dir;
    fs.writeFileSync(
      path.join(d, 'influxdb.conf'),
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${influx.rpcPort}"`,
        '[meta]',
        `  dir = "${d}/meta"`,
        '[data]',
        `  dir = "${d}/data"`,
        `  wal-dir = "${d}/wal"`,
        '  wal-fsync-delay = "0s"',
        '  query-log-enabled = false',
        '  index-version = "inmem"',
        '[monitor]',
        '  store-enabled = false',
        '[http]',
        '  enabled = true',
        `  bind-address = "127.0.0.1:${influx.port}"`,
        '  auth-enabled = false',
        '  log-enabled = false',
        '[logging]',
        '  level = "warn"',
        '  suppress-logo = true',
        '[subscriber]',
        '  enabled = false',
        '[continuous_queries]',
        '  enabled = false',
        '',
      ].join('\n'),
    );
    await influx.start();
    return influx;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected spawnServer(): ChildProcess {
    const log = fs.openSync(path.join(this.dir, 'influxd.log'), 'a');
    return spawn('influxd', ['run', '-config', path.join(this.dir, 'influxdb.conf')], { stdio: ['ignore', log, log] });
  }

  protected async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(2000) });
      return res.status === 204;
    } catch {
      return false;
    }
  }
}

const KAFKA_LIBS = path.join(STACK_DIR, 'kafka', 'libs');

/** A single-node KRaft Kafka (broker and controller), the stack's jars, its own ports and log dir. */
export class ThrowawayKafka extends Throwaway {
  private constructor(
    readonly port: number,
    private controllerPort: number,
  ) {
    super('kafka');
  }

  static async create(): Promise<ThrowawayKafka> {
    if (!fs.existsSync(KAFKA_LIBS)) throw new Error(`no Kafka jars in ${KAFKA_LIBS} (scripts/stack up fetches them)`);
    const k = new ThrowawayKafka(await freePort(), await freePort());
    const d = k.dir;
    fs.writeFileSync(
      path.join(d, 'server.properties'),
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${k.controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${k.port},CONTROLLER://127.0.0.1:${k.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${k.port}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${d}/data`,
        'auto.create.topics.enable=true',
        'num.partitions=1',
        'default.replication.factor=1',
        'min.insync.replicas=1',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=1',
        'group.initial.rebalance.delay.ms=0',
        'num.network.threads=2',
        'num.io.threads=2',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(d, 'log4j.properties'),
      [
        'log4j.rootLogger=INFO, serverFile',
        'log4j.appender.serverFile=org.apache.log4j.FileAppender',
        `log4j.appender.serverFile.File=${d}/server.log`,
        'log4j.appender.serverFile.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.serverFile.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.request.logger=WARN',
        '',
      ].join('\n'),
    );
    const java = (args: string[]) =>
      run('java', [
        '-Xms64m',
        '-Xmx256m',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${d}/log4j.properties`,
        '-cp',
        `${KAFKA_LIBS}/*`,
        'kafka.tools.StorageTool',
        ...args,
      ]);
    const id = (await java(['random-uuid'])).stdout.trim().split('\n').pop()!;
    await java(['format', '-t', id, '-c', path.join(d, 'server.properties'), '--ignore-formatted']);
    await k.start();
    return k;
  }

  get broker(): string {
    return `127.0.0.1:${this.port}`;
  }

  protected spawnServer(): ChildProcess {
    // A fresh server.log per start, so readiness sees only this run's "started" line.
    fs.rmSync(path.join(this.dir, 'server.log'), { force: true });
    const log = fs.openSync(path.join(this.dir, 'stdout.log'), 'a');
    return spawn(
      'java',
      [
        '-Xms128m',
        '-Xmx384m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${this.dir}`,
        `-Dlog4j.configuration=file:${this.dir}/log4j.properties`,
        '-cp',
        `${KAFKA_LIBS}/*`,
        'kafka.Kafka',
        path.join(this.dir, 'server.properties'),
      ],
      { stdio: ['ignore', log, log] },
    );
  }

  protected async ready(): Promise<boolean> {
    if (!(await portOpen(this.port))) return false;
    try {
      return fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').includes('Kafka Server started');
    } catch {
      return false;
    }
  }
}
