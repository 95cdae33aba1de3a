/**
 * HTTP(S) drains, as Heroku's logplex sends them: POST batches (≤ 100 KB) of octet-counted RFC5424
 * frames, `Content-Type: application/logplex-1`, `Logplex-Msg-Count`, `Logplex-Frame-Id` (the same on
 * every retry of a batch, so a receiver can drop a batch it already has), `Logplex-Drain-Token`,
 * basic auth from the url's userinfo. 2xx = delivered; 4xx except 429 = permanent (to the DLQ);
 * anything else, a timeout or a connection error = retry.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import net from 'node:net';
import { DeliveryError, OutBatch, refusedDelivery, Transport } from '../sender';
import type { DrainTarget } from '../url';
import { DestinationPolicy, isDestinationRefused } from '../destination';
import { endCleanly } from './close';

export const HTTP_MAX_BATCH_BYTES = 100 * 1024;

export interface HttpOptions {
  /** Checks the address at every new connection and connects to the checked one (drains/destination.ts). */
  policy: DestinationPolicy;
  /** The whole request (connect, send, response) must finish within this. */
  timeoutMs: number;
  /** TLS context trusting an extra CA besides the system roots; default: system roots. */
  secureContext?: tls.SecureContext;
  /** Requests outstanding at once; 1 (default) keeps the order per dyno across retries. */
  maxInFlight?: number;
  userAgent?: string;
}

export class HttpTransport implements Transport {
  readonly maxInFlight: number;
  readonly maxBatchBytes = HTTP_MAX_BATCH_BYTES;
  readonly maxBatchItems = 10_000;
  private agent: http.Agent;
  private url: URL;
  private auth: string | undefined;
  private closed = false;

  constructor(
    private target: DrainTarget,
    private token: string,
    private opts: HttpOptions,
  ) {
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.url = new URL(target.endpoint as string);
    const agentOpts = { keepAlive: true, maxSockets: Math.max(1, this.maxInFlight), keepAliveMsecs: 30_000 };
    this.agent =
      target.transport === 'https'
        ? new https.Agent({
            ...agentOpts,
            rejectUnauthorized: !target.insecure,
            secureContext: opts.secureContext,
          })
        : new http.Agent(agentOpts);
    if (target.username !== undefined || target.password !== undefined) {
      this.auth = `Basic ${Buffer.from(`${target.username ?? ''}:${target.password ?? ''}`, 'utf8').toString('base64')}`;
    }
  }

  send(batch: OutBatch): Promise<void> {
    if (this.closed) return Promise.reject(new DeliveryError('drain closed'));
    const where = `${this.url.protocol}//${this.url.host}`;
    // Node connects to a literal address without calling `lookup`: those are checked here.
    const host = this.target.host;
    const why = net.isIP(host) ? this.opts.policy.refusal(host) : null;
    if (why) return Promise.reject(refusedDelivery(where, `${host} is ${why}`));
    const body = batch.payload();
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/logplex-1',
      'Content-Length': body.length,
      'Logplex-Msg-Count': batch.items.length,
      'Logplex-Frame-Id': batch.frameId,
      'Logplex-Drain-Token': this.token,
      'User-Agent': this.opts.userAgent ?? 'logway',
    };
    if (this.auth) headers.Authorization = this.auth;
    const mod = this.target.transport === 'https' ? https : http;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (e?: DeliveryError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      const req = mod.request(this.url, { method: 'POST', agent: this.agent, headers, lookup: this.opts.policy.lookup }, (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('error', (e) => finish(new DeliveryError(`${where}: ${e.message}`)));
        res.on('end', () => {
          if (status >= 200 && status < 300) finish();
          else {
            const permanent = status >= 400 && status < 500 && status !== 429;
            finish(new DeliveryError(`HTTP ${status} ${res.statusMessage ?? ''}`.trim(), permanent));
          }
        });
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(new DeliveryError(`${where}: no answer within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      req.on('error', (e) => finish(isDestinationRefused(e) ? refusedDelivery(where, e.message) : new DeliveryError(`${where}: ${e.message}`)));
      req.end(body);
    });
  }

  /** Idle keep-alive sockets end with close_notify (endCleanly); a request still in flight is cut. */
  close(): void {
    this.closed = true;
    for (const sockets of [this.agent.freeSockets, this.agent.sockets]) {
      for (const list of Object.values(sockets)) for (const socket of list ?? []) endCleanly(socket);
    }
  }
}
