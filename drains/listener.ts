/**
 * A dedicated PostgreSQL client LISTENing for drain changes (and DLQ retry requests), so every
 * worker learns about a new or deleted drain within a second. If the connection drops it is
 * reopened with backoff, and `onReconnect` runs (a full refresh covers notifications missed meanwhile).
 */
import type { Db, Notification, PoolClient } from '../lib/db';
import type { Logger } from '../lib/logger';
import { cappedExponential } from './backoff';

export interface ListenerOptions {
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
    private log: Logger,
    private opts: ListenerOptions,
  ) {}

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
      if (!this.stopped) {
        this.log.warn({ err: err?.message }, 'drain LISTEN connection lost; reconnecting');
        this.scheduleReconnect();
      }
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
    const delay = cappedExponential(this.failures, 250, 10_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => this.opts.onReconnect(),
        () => this.scheduleReconnect(),
      );
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('notification');
      await c.query(`UNLISTEN *`).catch(() => undefined);
      c.removeAllListeners('error');
      c.removeAllListeners('end');
      c.release();
    }
  }
}
