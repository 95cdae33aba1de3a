/**
 * A dedicated PostgreSQL connection LISTENing on some channels, for lib/'s own notifications (the
 * drain worker has its own, drains/listener.ts). A lost connection is reopened after 250 ms, doubling
 * up to 10 s, and `onReconnect` then runs so the caller can re-read what it may have missed.
 * Connection failures are not logged here: lib/db reports PostgreSQL outages as state changes.
 */
import type { Db, Notification, PoolClient } from './db';

export interface PgListenerOptions {
  channels: string[];
  onNotify(channel: string, payload: string | undefined): void;
  onReconnect(): void;
}

export class PgListener {
  private client: PoolClient | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private db: Db,
    private opts: PgListenerOptions,
  ) {}

  /** Resolves once LISTEN is in place, or once the first attempt failed (retries go on). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect().catch(() => this.scheduleReconnect());
  }

  private async connect(): Promise<void> {
    const client = await this.db.connect();
    let released = false;
    const drop = (err?: Error) => {
      if (released) return;
      released = true;
      client.removeAllListeners('notification');
      client.release(err ?? true);
      if (this.client === client) this.client = null;
      this.scheduleReconnect();
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('connection ended')));
    client.on('notification', (n: Notification) => this.opts.onNotify(n.channel, n.payload));
    try {
      for (const ch of this.opts.channels) await client.query(`LISTEN ${ch}`);
    } catch (e) {
      drop(e as Error);
      throw e;
    }
    if (this.stopped) {
      drop();
      return;
    }
    this.client = client;
    this.failures = 0;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.failures++;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.failures - 1, 10));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => this.opts.onReconnect(),
        () => this.scheduleReconnect(),
      );
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('notification');
      await c.query('UNLISTEN *').catch(() => undefined);
      c.removeAllListeners('error');
      c.removeAllListeners('end');
      c.release();
    }
  }
}
