/**
 * Syslog transports: TCP and TLS streams (RFC6587 framing, RFC5425 for TLS) and UDP datagrams
 * (RFC5426). Node's net, tls and dgram; one connection per drain, reused, reopened after a failure
 * (the sender's backoff paces the reconnects).
 *
 * Acknowledgement over a stream: a batch counts as delivered when the socket wrote it to the kernel
 * without error AND the connection then stayed up for `ackGraceMs`. Syslog has no application acks;
 * the grace window catches the usual ways a write is lost (the receiver died or reset the connection
 * just before or after it) and resends those batches on a new connection. The price is duplicates:
 * up to `ackGraceMs` worth of lines may arrive twice after a disconnect (docs/drains.md).
 */
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import { DeliveryError, OutBatch, refusedDelivery, Transport } from '../sender';
import type { DrainTarget } from '../url';
import { DestinationPolicy, isDestinationRefused } from '../destination';
import { endCleanly } from './close';

export interface StreamOptions {
  /** Checks the address at every connect and connects to the checked one (drains/destination.ts). */
  policy: DestinationPolicy;
  connectTimeoutMs: number;
  /** A write the socket has not flushed within this long means a stuck receiver: the connection is dropped. */
  writeTimeoutMs: number;
  ackGraceMs: number;
  /** TLS context trusting an extra CA besides the system roots (tests use their own CA); default: system roots. */
  secureContext?: tls.SecureContext;
  maxInFlight?: number;
  maxBatchBytes?: number;
}

interface PendingWrite {
  resolve(): void;
  reject(e: Error): void;
  /** When the socket flushed it; 0 while still writing. */
  writtenAt: number;
  /** Counted out of `writing` (by the write callback or by the connection failing). */
  flushed: boolean;
  timeout: NodeJS.Timeout;
}

interface Connection {
  socket: net.Socket;
  pending: PendingWrite[];
  dead: boolean;
  confirmTimer: NodeJS.Timeout | null;
}

export class StreamTransport implements Transport {
  readonly maxInFlight: number;
  readonly maxBatchBytes: number;
  readonly maxBatchItems = 5000;
  private conn: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private closed = false;
  /** Batches handed to send() whose write the socket has not flushed yet (connecting included). */
  private writing = 0;
  onIdle?: () => void;

  constructor(
    private target: DrainTarget,
    private opts: StreamOptions,
  ) {
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.maxBatchBytes = opts.maxBatchBytes ?? 256 * 1024;
  }

  /** Node connects to a literal address without calling `lookup`: those are checked here. */
  private refusedLiteral(): DeliveryError | null {
    if (!net.isIP(this.target.host)) return null;
    const why = this.opts.policy.refusal(this.target.host);
    return why ? refusedDelivery(this.where(), `${this.target.host} is ${why}`) : null;
  }

  get busy(): boolean {
    return this.writing > 0;
  }

  private wrote(): void {
    this.writing = Math.max(0, this.writing - 1);
    if (this.writing === 0) this.onIdle?.();
  }

  async send(batch: OutBatch): Promise<void> {
    this.writing++;
    let conn: Connection;
    try {
      conn = await this.connect();
    } catch (e) {
      this.wrote();
      throw e;
    }
    return new Promise<void>((resolve, reject) => {
      const p: PendingWrite = {
        resolve,
        reject,
        writtenAt: 0,
        flushed: false,
        timeout: setTimeout(() => this.fail(conn, new DeliveryError(`write timeout after ${this.opts.writeTimeoutMs} ms`)), this.opts.writeTimeoutMs),
      };
      conn.pending.push(p);
      conn.socket.write(batch.payload(), (err) => {
        clearTimeout(p.timeout);
        if (!p.flushed) {
          p.flushed = true;
          this.wrote();
        }
        if (err) {
          this.fail(conn, err);
          return;
        }
        p.writtenAt = Date.now();
        this.scheduleConfirm(conn);
      });
    });
  }

  /** Deletion, shutdown and a worker's stop all end here: the receiver sees a clean close. */
  close(): void {
    this.closed = true;
    if (this.conn) this.fail(this.conn, new DeliveryError('drain closed'), true);
  }

  private where(): string {
    return `${this.target.transport === 'tls' ? 'tls' : 'tcp'}://${this.target.host}:${this.target.port}`;
  }

  private connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new DeliveryError('drain closed'));
    if (this.conn && !this.conn.dead) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    const refused = this.refusedLiteral();
    if (refused) return Promise.reject(refused);
    this.connecting = new Promise<Connection>((resolve, reject) => {
      const { host, port } = this.target;
      const lookup = this.opts.policy.lookup;
      let socket: net.Socket;
      const ready = this.target.transport === 'tls' ? 'secureConnect' : 'connect';
      if (this.target.transport === 'tls') {
        socket = tls.connect({
          host,
          port,
          // SNI carries a host name, never an address (RFC6066 §3).
          servername: net.isIP(host) ? undefined : host,
          rejectUnauthorized: !this.target.insecure,
          secureContext: this.opts.secureContext,
          lookup,
        });
      } else {
        socket = net.connect({ host, port, lookup });
      }
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DeliveryError(`connect ${this.where()}: timeout after ${this.opts.connectTimeoutMs} ms`));
      }, this.opts.connectTimeoutMs);
      const onError = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(isDestinationRefused(e) ? refusedDelivery(this.where(), e.message) : new DeliveryError(`connect ${this.where()}: ${e.message}`));
      };
      socket.once('error', onError);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        const conn: Connection = { socket, pending: [], dead: false, confirmTimer: null };
        socket.setKeepAlive(true, 30_000);
        socket.setNoDelay(true);
        socket.on('error', (e) => this.fail(conn, new DeliveryError(`${this.where()}: ${e.message}`)));
        socket.on('end', () => this.fail(conn, new DeliveryError(`${this.where()}: connection closed by the receiver`), true));
        socket.on('close', () => this.fail(conn, new DeliveryError(`${this.where()}: connection closed`)));
        // Receivers do not talk back; read and drop anything so the socket never stalls.
        socket.on('data', () => undefined);
        if (this.closed) {
          endCleanly(socket);
          reject(new DeliveryError('drain closed'));
          return;
        }
        this.conn = conn;
        resolve(conn);
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /**
   * The connection broke or is being closed: every batch not yet confirmed on it fails (and will be
   * resent). `clean` ends it as TLS should; a broken or stuck connection is cut.
   */
  private fail(conn: Connection, err: Error, clean = false): void {
    if (conn.dead) return;
    conn.dead = true;
    if (this.conn === conn) this.conn = null;
    if (conn.confirmTimer) clearTimeout(conn.confirmTimer);
    if (clean) endCleanly(conn.socket);
    else conn.socket.destroy();
    const pending = conn.pending;
    conn.pending = [];
    const e = err instanceof DeliveryError ? err : new DeliveryError(`${this.where()}: ${err.message}`);
    for (const p of pending) {
      clearTimeout(p.timeout);
      if (!p.flushed) {
        p.flushed = true;
        this.writing = Math.max(0, this.writing - 1);
      }
      p.reject(e);
    }
  }

  private scheduleConfirm(conn: Connection): void {
    if (conn.confirmTimer || conn.dead) return;
    const head = conn.pending[0];
    if (!head || head.writtenAt === 0) return;
    const wait = Math.max(0, head.writtenAt + this.opts.ackGraceMs - Date.now());
    conn.confirmTimer = setTimeout(() => {
      conn.confirmTimer = null;
      if (conn.dead) return;
      const now = Date.now();
      while (conn.pending.length && conn.pending[0].writtenAt !== 0 && now - conn.pending[0].writtenAt >= this.opts.ackGraceMs) {
        (conn.pending.shift() as PendingWrite).resolve();
      }
      this.scheduleConfirm(conn);
    }, wait);
  }
}

/**
 * RFC5426: one message per datagram, capped at 1024 bytes by the sender. UDP has no acks: a datagram
 * is delivered once the kernel sent it; what the network loses is lost (docs/drains.md).
 */
export class UdpTransport implements Transport {
  readonly maxInFlight = 4;
  readonly maxBatchBytes = 64 * 1024;
  readonly maxBatchItems = 500;
  private sockets: { 4?: dgram.Socket; 6?: dgram.Socket } = {};

  constructor(
    private target: DrainTarget,
    private policy: DestinationPolicy,
  ) {}

  private sock(family: 4 | 6): dgram.Socket {
    let s = this.sockets[family];
    if (!s) {
      const created = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      created.on('error', () => {
        created.close();
        if (this.sockets[family] === created) delete this.sockets[family];
      });
      created.unref();
      this.sockets[family] = s = created;
    }
    return s;
  }

  /** Resolved and checked once per batch; every datagram of it goes to that checked address. */
  private async destination(): Promise<{ address: string; family: 4 | 6 }> {
    const where = `udp://${this.target.host}:${this.target.port}`;
    try {
      const [first] = await this.policy.resolve(this.target.host);
      return { address: first.address, family: first.family === 6 ? 6 : 4 };
    } catch (e) {
      if (isDestinationRefused(e)) throw refusedDelivery(where, e.message);
      throw new DeliveryError(`${where}: ${(e as Error).message}`);
    }
  }

  async send(batch: OutBatch): Promise<void> {
    const { address, family } = await this.destination();
    const s = this.sock(family);
    return new Promise((resolve, reject) => {
      let left = batch.items.length;
      let failed = false;
      for (const item of batch.items) {
        s.send(item.frame, this.target.port, address, (err) => {
          if (failed) return;
          if (err) {
            failed = true;
            reject(new DeliveryError(`udp://${this.target.host}:${this.target.port}: ${err.message}`));
            return;
          }
          if (--left === 0) resolve();
        });
      }
    });
  }

  close(): void {
    for (const s of [this.sockets[4], this.sockets[6]]) {
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
    this.sockets = {};
  }
}
