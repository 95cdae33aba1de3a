/**
 * Revoked log sessions (docs/design.md §3 "Log sessions", docs/security.md "Revoking a session"):
 * kept in PostgreSQL and known in memory by every node, so a revoked session's streams end on every
 * node within seconds and its URL answers 404 everywhere.
 *
 * A revocation is inserted and NOTIFYd in one transaction; each node LISTENs, and re-reads the
 * table every `refreshMs` as well (a notification sent while its LISTEN connection was down is not
 * delivered). Nothing here is on the path of creating or opening a session: while PostgreSQL is
 * down sessions are still created and opened, revocations already known still hold, and only
 * DELETE answers 503.
 */
import type { Db } from '../db';
import { PgListener } from '../pg-listener';

const CHANNEL = 'logway_log_session_revoked';

export interface RevocationsOptions {
  /** How often the table is re-read (default 3 s, so a lost notification still ends streams within 5 s). */
  refreshMs?: number;
  /** Called once per nonce when this node learns it was revoked. */
  onRevoked(nonce: string): void;
}

export class SessionRevocations {
  /** nonce → when the revocation stops mattering, epoch ms. */
  private revoked = new Map<string, number>();
  private listener: PgListener;
  private timer?: NodeJS.Timeout;

  constructor(
    private db: Db,
    private opts: RevocationsOptions,
  ) {
    this.listener = new PgListener(db, {
      channels: [CHANNEL],
      onNotify: (_channel, payload) => this.notified(payload),
      onReconnect: () => void this.refresh(),
    });
  }

  has(nonce: string): boolean {
    const expires = this.revoked.get(nonce);
    return expires !== undefined && expires > Date.now();
  }

  /** Records the revocation (idempotent) and tells every node; answers when it was first revoked. */
  async revoke(nonce: string, expiresAt: Date): Promise<Date> {
    const revokedAt = await this.db.tx(async (c) => {
      await c.query('DELETE FROM log_session_revocations WHERE expires_at < now()');
      const { rows } = await c.query<{ revoked_at: Date; expires_at: Date }>(
        `INSERT INTO log_session_revocations (nonce, expires_at) VALUES ($1, $2)
           ON CONFLICT (nonce) DO UPDATE SET expires_at = GREATEST(log_session_revocations.expires_at, EXCLUDED.expires_at)
           RETURNING revoked_at, expires_at`,
        [nonce, expiresAt],
      );
      await c.query('SELECT pg_notify($1, $2)', [CHANNEL, `${nonce} ${rows[0].expires_at.getTime()}`]);
      return rows[0].revoked_at;
    });
    this.add(nonce, expiresAt.getTime());
    return revokedAt;
  }

  async start(): Promise<void> {
    await this.listener.start();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 3_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.listener.stop();
  }

  private notified(payload: string | undefined): void {
    const [nonce, expires] = (payload ?? '').split(' ');
    const ms = Number(expires);
    if (nonce && Number.isFinite(ms)) this.add(nonce, ms);
  }

  private add(nonce: string, expiresMs: number): void {
    if (expiresMs <= Date.now() || this.revoked.has(nonce)) return;
    this.revoked.set(nonce, expiresMs);
    this.opts.onRevoked(nonce);
  }

  /** Re-reads the revocations still in force and forgets the expired ones; a failure waits for the next turn. */
  private async refresh(): Promise<void> {
    let rows: { nonce: string; expires_at: Date }[];
    try {
      rows = await this.db.query('SELECT nonce, expires_at FROM log_session_revocations WHERE expires_at > now()');
    } catch {
      return; // lib/db reports the outage; what is known stays in force
    }
    const now = Date.now();
    for (const [nonce, expires] of this.revoked) if (expires <= now) this.revoked.delete(nonce);
    for (const r of rows) this.add(r.nonce, r.expires_at.getTime());
  }
}
