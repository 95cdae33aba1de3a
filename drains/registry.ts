/**
 * The drain registry of a worker: the live drain set (one DrainSender per drain, indexed by the
 * app or site token it serves), kept in step with PostgreSQL (a full reload on NOTIFY and on a
 * timer), and the transport each drain's URL asks for, with the node's TLS trust and the
 * destination policy at every connect.
 */
import tls from 'node:tls';
import type { Logger } from '../lib/logger';
import { DestinationPolicy } from './destination';
import type { DrainMetrics } from './metrics';
import type { Parker } from './parker';
import type { RetryPolicy } from './backoff';
import { DrainSender, Transport } from './sender';
import type { Drain, DrainStore } from './store';
import { HttpTransport } from './transports/http';
import { StreamTransport, UdpTransport } from './transports/syslog';
import { DrainTarget, parseDrainUrl } from './url';

export interface LiveDrain {
  drain: Drain;
  target: DrainTarget;
  sender: DrainSender;
}

export interface RegistryOptions {
  retry: RetryPolicy;
  queueMax: number;
  connectTimeoutMs: number;
  writeTimeoutMs: number;
  ackGraceMs: number;
  tlsCa?: string | Buffer;
  httpMaxInFlight: number;
}

export class DrainRegistry {
  private drains = new Map<string, LiveDrain>();
  /** Drains by the token (app key or site) whose lines they take. */
  private tokens = new Map<string, LiveDrain[]>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private closed = false;
  /** Built once: a SecureContext with ~140 system roots costs milliseconds, too much per connection. */
  private secureContext?: tls.SecureContext;

  constructor(
    private store: DrainStore,
    private parker: Parker,
    private metrics: DrainMetrics,
    /** Every connect re-checks the drain's address (DNS rebinding, drains created before the policy). */
    private destinations: DestinationPolicy,
    private opts: RegistryOptions,
    private log: Logger,
  ) {
    if (opts.tlsCa) this.secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, opts.tlsCa.toString()] });
  }

  /** The drains of a token (app key or site), or undefined. Hot path: a map lookup. */
  byToken(token: string): LiveDrain[] | undefined {
    return this.tokens.get(token);
  }

  get(drainId: string): LiveDrain | undefined {
    return this.drains.get(drainId);
  }

  ids(): string[] {
    return [...this.drains.keys()];
  }

  all(): IterableIterator<LiveDrain> {
    return this.drains.values();
  }

  scheduleRefresh(ms: number): void {
    if (this.closed || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh().catch((e) => this.log.error({ err: (e as Error).message }, 'drain cache refresh failed'));
    }, ms);
  }

  /** Reloads every drain; starts senders for new ones and stops those of deleted ones. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const all = await this.store.all();
        if (this.closed) return;
        this.sync(all);
      } while (this.refreshAgain && !this.closed);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  open(): void {
    this.closed = false;
  }

  /** Closes every sender (the worker stops). */
  close(): void {
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    for (const d of this.drains.values()) d.sender.close();
    this.drains.clear();
    this.tokens.clear();
  }

  private sync(all: Drain[]): void {
    const seen = new Set<string>();
    for (const drain of all) {
      seen.add(drain.id);
      if (this.drains.has(drain.id)) continue;
      let target: DrainTarget;
      try {
        target = parseDrainUrl(drain.url);
      } catch (e) {
        this.log.warn({ drain: drain.id, err: (e as Error).message }, 'drain url no longer valid; skipped');
        continue;
      }
      const sender = new DrainSender(
        { id: drain.id, token: drain.token },
        target,
        this.transportFor(target, drain.token),
        this.parker,
        this.metrics,
        { retry: this.opts.retry, queueMax: this.opts.queueMax },
        this.log.child({ drain: drain.id }),
      );
      this.drains.set(drain.id, { drain, target, sender });
      this.log.info({ drain: drain.id, token: drain.token, transport: target.transport }, 'drain started');
    }
    for (const [id, d] of this.drains) {
      if (seen.has(id)) continue;
      this.drains.delete(id);
      d.sender.remove();
      this.metrics.removeDrain(id, d.drain.token);
      this.log.info({ drain: id, token: d.drain.token }, 'drain stopped (deleted)');
    }
    const tokens = new Map<string, LiveDrain[]>();
    for (const d of this.drains.values()) {
      const list = tokens.get(d.drain.token) ?? [];
      list.push(d);
      tokens.set(d.drain.token, list);
    }
    this.tokens = tokens;
  }

  private transportFor(target: DrainTarget, token: string): Transport {
    switch (target.transport) {
      case 'udp':
        return new UdpTransport(target, this.destinations);
      case 'http':
      case 'https':
        return new HttpTransport(target, token, {
          policy: this.destinations,
          timeoutMs: this.opts.writeTimeoutMs,
          secureContext: this.secureContext,
          maxInFlight: this.opts.httpMaxInFlight,
        });
      default:
        return new StreamTransport(target, {
          policy: this.destinations,
          connectTimeoutMs: this.opts.connectTimeoutMs,
          writeTimeoutMs: this.opts.writeTimeoutMs,
          ackGraceMs: this.opts.ackGraceMs,
          secureContext: this.secureContext,
        });
    }
  }
}
