/**
 * Compressed topics written by a real producer (kcat, i.e. librdkafka, `-z gzip|snappy|lz4|zstd`)
 * next to a plain one, against the real local Kafka: log sessions read every one of them (history
 * back-filled from Kafka and live tail), and the drain worker, whose one consumer reads every
 * topic of the cluster, delivers to a drain on each with exact counts. Before the codecs were
 * registered, one zstd batch anywhere crash-looped the consumer ("ZSTD compression not
 * implemented"): no drain of any app was served and apps were never learned.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createTailFeature, TailFeature } from '../../lib/tail/feature';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, STACK_DIR, testEnv, uniqueName } from '../helpers/env';
import { appLog, HttpsReceiver, parseRfc5424, tally } from '../helpers/drain-fixtures';
import { makeTestCert, TestCert } from '../helpers/test-cert';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
type Codec = (typeof CODECS)[number];
const CODEC_ID: Record<Codec, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
const BROKERS = testEnv.KAFKA_BROKERS;
const KAFKA_DATA = path.join(STACK_DIR, 'kafka', 'data');

/** Akkeris app-log lines for `app`, written to `space` by kcat in one compressed batch. */
function kcat(codec: Codec, space: string, app: string, texts: string[]): void {
  const input = texts.map((t) => `${app}-web-1562910588-k0\t${appLog(app, space, '1562910588-k0', t)}`).join('\n') + '\n';
  execFileSync('kcat', ['-b', BROKERS, '-P', '-t', space, '-z', codec, '-K', '\t', '-X', 'linger.ms=100'], { input, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** The codecs of every record batch the broker stored for a topic (DefaultRecordBatch v2 attributes). */
function codecsOnDisk(topic: string): Set<number> {
  const seen = new Set<number>();
  for (const dir of fs.readdirSync(KAFKA_DATA).filter((d) => d.startsWith(`${topic}-`) && /^\d+$/.test(d.slice(topic.length + 1)))) {
    for (const f of fs.readdirSync(path.join(KAFKA_DATA, dir)).filter((n) => n.endsWith('.log'))) {
      const seg = fs.readFileSync(path.join(KAFKA_DATA, dir, f));
      for (let i = 0; i + 61 <= seg.length; i += 12 + seg.readInt32BE(i + 8)) seen.add(seg.readInt16BE(i + 21) & 7);
    }
  }
  return seen;
}

const texts = (tag: string, codec: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${codec} line ${i} GET /compressed/${codec}?i=${i} 200`);

let core: Core;

beforeAll(() => {
  execFileSync('kcat', ['-V'], { stdio: 'ignore' }); // scripts/test-deps.d/kcat.sh installs it
  core = createTestCore();
});

afterAll(async () => {
  if (core) await closeCore(core);
});

describe('log sessions on compressed topics', () => {
  const prefix = uniqueName('kzt');
  const space = (c: Codec) => `${prefix}${c}`;
  const app = Object.fromEntries(CODECS.map((c) => [c, uniqueName(c.replace(/\d/g, ''))])) as Record<Codec, string>;
  const key = (c: Codec) => `${app[c]}-${space(c)}`;
  let feature: TailFeature;
  let server: http.Server;
  const sockets: http.ClientRequest[] = [];

  beforeAll(async () => {
    server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    (core.config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const c of CODECS) await core.kafka.createTopic(space(c), 3);
  });

  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await feature?.stop();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  });

  /** The plain-text body of a session that ends (tail: false). */
  async function history(c: Codec, lines: number): Promise<string[]> {
    const res = await request(server)
      .post(`/apps/${key(c)}/log-sessions`)
      .set(authHeader)
      .send({ lines, tail: false });
    expect(res.status).toBe(201);
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(res.body.logplex_url as string, (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (text += d));
        r.on('end', () => resolve(text));
        r.on('error', reject);
      });
      req.on('error', reject);
      sockets.push(req);
    });
    return body.split('\n').filter((l) => l !== '');
  }

  it('history from Kafka and live lines: every codec is read, and apps on them are learned', async () => {
    // A compressed batch already in each topic before logway starts (the session back-fills it).
    for (const c of CODECS) kcat(c, space(c), app[c], texts('before', c, 5));
    feature = createTailFeature(core, { reading: 'every-topic', topicPollMs: 250, keepaliveMs: 300, retryMs: 1500, sessionBufferLines: 50 });
    server.on('request', createApp(core, [feature]));
    await feature.start();
    await waitFor('the hub subscribed to every topic', async () => CODECS.every((c) => feature.hub.topics.includes(space(c))));

    // Written while logway runs: the hub consumes them and learns each app from them.
    for (const c of CODECS) kcat(c, space(c), app[c], texts('after', c, 5));
    for (const c of CODECS) await waitFor(`app on the ${c} topic learned`, async () => core.apps.find(key(c)));
    for (const c of CODECS) expect(codecsOnDisk(space(c))).toEqual(new Set([CODEC_ID[c]]));

    for (const c of CODECS) {
      const want = [...texts('before', c, 5), ...texts('after', c, 5)];
      // The hub consumed the live batch: history = back-fill of the earlier batch + live lines.
      await waitFor(`${c} lines consumed by the hub`, async () =>
        feature.hub.rings
          .peek(key(c))
          ?.toArray()
          .some((l) => l.message === want[9]),
      );
      const got = await history(c, 100);
      expect(got.map((l) => l.replace(/^.*?: /, ''))).toEqual(want);
      expect(got.every((l) => l.includes(` ${key(c)} app[web.1562910588-k0]: `))).toBe(true);
    }
  });
});

describe('drains with compressed topics in the cluster', () => {
  const prefix = uniqueName('kzd');
  const topics = { gzip: `${prefix}gzip`, snappy: `${prefix}snappy`, lz4: `${prefix}lz4`, zstd: `${prefix}zstd`, plain: `${prefix}plain` };
  const appName = uniqueName('kd');
  let cert: TestCert;
  let receiver: HttpsReceiver;
  let feature: DrainsFeature | undefined;

  beforeAll(async () => {
    cert = makeTestCert();
    receiver = new HttpsReceiver(cert);
    await receiver.listen();
  });

  afterAll(async () => {
    await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${prefix}%`]).catch(() => undefined);
    await feature?.stop?.();
    await receiver?.close();
    if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
  });

  it('a drain on every topic, plain and compressed, receives exactly its lines', async () => {
    for (const t of Object.values(topics)) await core.kafka.createTopic(t, 3);
    // Compressed batches already in the cluster when the worker starts.
    for (const c of CODECS) kcat(c, topics[c], appName, texts('old', c, 5));

    feature = createDrainsFeature(core, {
      groupId: uniqueName('kafka-compression-'),
      topics: [new RegExp(`^${prefix}`)],
      fromBeginning: false,
      commitIntervalMs: 200,
      retry: { baseMs: 20, capMs: 200, attempts: 4 },
      tlsCa: cert.ca,
    });
    await feature.start?.();
    const worker = feature.worker!;
    const api = createApp(core, [feature]);
    await waitFor('subscribed to every topic', async () => Object.values(topics).every((t) => worker.subscribedTopics.includes(t)));

    const drains: Record<string, string> = {};
    for (const [name, t] of Object.entries(topics)) {
      const appKey = `${appName}-${t}`;
      await core.apps.register(appKey);
      const res = await request(api)
        .post(`/apps/${appKey}/log-drains`)
        .set(authHeader)
        .send({ url: `https://localhost:${receiver.port}/${name}` });
      expect(res.status).toBe(201);
      drains[name] = res.body.id as string;
      await waitFor(`drain ${name} live in the worker`, async () => worker.senderOf(drains[name]) !== undefined);
    }

    // The snappy, lz4 and zstd batches first: a consumer that cannot decode them never reaches the
    // gzip and plain lines written after them (every fetch of the node fails), whatever their app.
    const want: Record<string, string[]> = {};
    for (const c of ['snappy', 'lz4', 'zstd', 'gzip'] as const) {
      want[c] = texts('new', c, 5);
      kcat(c, topics[c], appName, want[c]);
    }
    want.plain = texts('new', 'plain', 5);
    await core.kafka.produce(
      topics.plain,
      want.plain.map((t) => ({ key: appName, value: appLog(appName, topics.plain, '1562910588-k0', t) })),
    );
    for (const c of CODECS) expect(codecsOnDisk(topics[c])).toEqual(new Set([CODEC_ID[c]]));

    const messagesAt = (name: string) => receiver.delivered(`/${name}`).map((m) => parseRfc5424(m)!.msg);
    for (const name of ['plain', 'gzip', 'snappy', 'lz4', 'zstd']) {
      await waitFor(`every line at the ${name} drain`, async () => new Set(messagesAt(name)).size === want[name].length);
    }
    await waitFor('lines settled', async () => worker.unsettled === 0);
    for (const name of Object.keys(topics)) {
      const got = messagesAt(name);
      // Each line once; the batches written before the group started are not replayed.
      expect([...tally(got).values()].every((n) => n === 1)).toBe(true);
      expect(got.sort()).toEqual([...want[name]].sort());
      expect(await feature.dlq.count({ drain: drains[name] })).toBe(0);
    }
  });
});
