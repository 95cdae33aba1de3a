/**
 * A logway node serving log sessions for the specs: the tail feature on a real HTTP server (so the
 * logplex_urls it hands out resolve), its own space, and the set-up those specs share: producing an
 * app's lines, creating sessions, opening streams, waiting for the hub to have read a line.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature, TailFeatureOptions } from '../../lib/tail/feature';
import { increasingTimes, produceAppLines, ProducedMessage } from './app-message';
import { authHeader, createTestCore, uniqueName } from './env';
import { Stream } from './stream';
import { waitFor } from './wait';

export class TailNode {
  base = '';
  readonly nextTime = increasingTimes();
  private streams: Stream[] = [];

  private constructor(
    readonly core: Core,
    readonly feature: TailFeature,
    readonly server: http.Server,
    readonly space: string,
  ) {}

  /** Listens on a free port; `env` reaches the Core's config (e.g. MAX_STREAMS_PER_APP). */
  static async start(opts: { space?: string; feature?: TailFeatureOptions; env?: Record<string, string> } = {}): Promise<TailNode> {
    const core = createTestCore(opts.env);
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const node = new TailNode(core, createTailFeature(core, { topicPollMs: 250, ...opts.feature }), server, opts.space ?? uniqueName('sp'));
    node.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    (core.config as { publicUrl: string }).publicUrl = node.base;
    server.on('request', createApp(core, [node.feature]));
    await node.feature.start();
    return node;
  }

  key(app: string): string {
    return `${app}-${this.space}`;
  }

  /** Produces `app`'s lines to the space's topic; resolves to them as an Akkeris text session shows them. */
  produce(app: string, msgs: (string | ProducedMessage)[]): Promise<string[]> {
    return produceAppLines(this.core.kafka, this.space, app, msgs, this.nextTime);
  }

  /** Creates a log session (201 expected) and returns its logplex_url. */
  async session(appKey: string, body: object, path = `/apps/${appKey}/log-sessions`): Promise<string> {
    const res = await request(this.server).post(path).set(authHeader).send(body);
    expect(res.status).toBe(201);
    return res.body.logplex_url as string;
  }

  /** A stream closed by stop(). */
  open(url: string, headers: Record<string, string> = {}): Stream {
    const s = new Stream(url, headers);
    this.streams.push(s);
    return s;
  }

  /** Waits until the hub's ring for `appKey` holds a line with this message. */
  consumed(appKey: string, message: string): Promise<true> {
    return waitFor(`"${message}" in the hub's ring of ${appKey}`, () =>
      this.feature.hub.rings
        .peek(appKey)
        ?.toArray()
        .some((l) => l.message === message),
    );
  }

  /** Waits until the hub reads the space's topic and `appKeys` are registered from it. */
  async subscribed(...appKeys: string[]): Promise<void> {
    await waitFor('the hub to subscribe the new topic', () => this.feature.hub.topics.includes(this.space));
    for (const k of appKeys) await waitFor(`${k} registered from the stream`, () => this.core.apps.find(k));
  }

  /** Drops the space's apps from PostgreSQL: the registry of a node that never saw them (tests share one database). */
  async forgetApps(): Promise<void> {
    await this.core.db.query('DELETE FROM apps WHERE space = $1', [this.space]);
  }

  private featureStopped = false;

  /** Stops the tail feature only (what SIGTERM does first); stop() then closes the rest. */
  async stopFeature(): Promise<void> {
    this.featureStopped = true;
    await this.feature.stop();
  }

  async stop(): Promise<void> {
    this.streams.forEach((s) => s.close());
    if (!this.featureStopped) await this.feature.stop();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await closeCore(this.core);
  }
}
