/**
 * Log-session limits of issue 9 against the real Kafka and PostgreSQL: open streams per app
 * (429 + Retry-After), a resume cursor that may not reach before the session's own start, and the
 * per-node bound on Kafka read-backs.
 */
import http from 'node:http';
import request from 'supertest';
import type { Core } from '../../lib/core';
import type { TailFeature } from '../../lib/tail/feature';
import { appMessage } from '../helpers/app-message';
import { uniqueName } from '../helpers/env';
import { TailNode } from '../helpers/tail-node';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

describe('log-session limits (real Kafka)', () => {
  let node: TailNode;
  let core: Core;
  let feature: TailFeature;
  let server: http.Server;
  const space = uniqueName('lim');
  const [a1, a2, a3] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
  const [k1, k2, k3] = [a1, a2, a3].map((a) => `${a}-${space}`);
  const session = (app: string, body: object) => node.session(app, body);
  const open = (url: string, headers?: Record<string, string>) => node.open(url, headers);

  /** Produces lines of `app`; `at` sets both the line time and the Kafka record timestamp. */
  async function produce(app: string, logs: string[], at?: Date): Promise<void> {
    await core.kafka.produce(
      space,
      logs.map((log) => ({ key: app, value: appMessage(app, space, log, at ?? new Date()), timestamp: at ? String(at.getTime()) : undefined })),
    );
  }

  beforeAll(async () => {
    // No read-back queue: a second concurrent read-back is refused at once (the 429 under test).
    node = await TailNode.start({
      space,
      env: { MAX_STREAMS_PER_APP: '2', MAX_CONCURRENT_READBACKS: '1' },
      feature: { reading: 'every-topic', readbackQueueLength: 0, resumeSlackSeconds: 60 },
    });
    ({ core, feature, server } = node);
    // Lines stamped two hours ago (record timestamp and line time), before any session of this
    // run; first in their partition, as Kafka timestamps are (near) monotonic in real traffic.
    await produce(a1, ['ancient 1', 'ancient 2', 'ancient 3'], new Date(Date.now() - 2 * 3600_000));
    for (const a of [a1, a2, a3]) await produce(a, [`hello from ${a}`]);
    await node.subscribed(k1, k2, k3);
  });

  afterAll(() => node?.stop());

  it('open streams per app: one more than MAX_STREAMS_PER_APP is 429 with Retry-After; a closed stream frees its slot', async () => {
    const tailUrl = await session(k1, { lines: 1, tail: true });
    const s1 = open(tailUrl);
    await waitFor('first stream', async () => s1.status === 200);
    const s2 = open(tailUrl);
    await waitFor('second stream', async () => s2.status === 200);

    const historyUrl = await session(k1, { lines: 1, tail: false });
    for (const url of [tailUrl, historyUrl]) {
      const refused = await request(server).get(new URL(url).pathname);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toEqual({ id: 'rate_limited', message: 'Too many log streams are open for this application (2); close one or retry later.' });
    }
    // Another app of the same space is not affected.
    const other = open(await session(k2, { lines: 1, tail: false }));
    await waitFor('the other app’s stream to end', async () => other.ended);
    expect(other.status).toBe(200);
    const refusedCount = (await feature.hub.metrics.sessionsRefused.get()).values.find((v) => v.labels.reason === 'streams_per_app')?.value;
    expect(refusedCount).toBe(2);

    s1.close();
    const freed = await waitFor('the closed stream’s slot', async () => {
      const r = await request(server).get(new URL(historyUrl).pathname);
      return r.status === 200 ? r : undefined;
    });
    expect(freed.text).toContain(`hello from ${a1}`);
    // The history-only stream ended and freed its slot as well.
    const s3 = open(tailUrl);
    await waitFor('a new stream in the freed slot', async () => s3.status === 200);
    s2.close();
    s3.close();
  });

  it('a resume cursor cannot rewind a session before its own start: earlier positions are raised to it, not 500', async () => {
    await node.consumed(k1, 'ancient 3');
    const url = await session(k1, { lines: 1, tail: true, filter: '^(ancient|fresh) ' });
    const s = open(url, { Accept: 'text/event-stream' });
    await waitFor('history', async () => s.data().some((d) => d.endsWith('ancient 3')));
    await produce(a1, ['fresh 1']);
    await waitFor('live line', async () => s.data().some((d) => d.endsWith('fresh 1')));
    const lastId = s.ids()[s.ids().length - 1];
    s.close();
    await waitFor('the first stream to close', async () => feature.sessions.size === 0);

    // The client keeps its tag but rewinds every partition to offset 0.
    const [cursor, tag] = lastId.split('~');
    const rewound = `${cursor
      .split(',')
      .map((p) => p.replace(/:\d+$/, ':0'))
      .join(',')}~${tag}`;
    const r = open(url, { Accept: 'text/event-stream', 'Last-Event-ID': rewound });
    await waitFor('resumed stream', async () => r.status === 200);
    await produce(a1, ['fresh 2']);
    await waitFor('live line after resume', async () => r.data().some((d) => d.endsWith('fresh 2')));
    // fresh 1 came after the session's start, so it may be replayed; the ancient lines may not.
    expect(r.data().map((d) => d.slice(d.lastIndexOf(': ') + 2))).toEqual(['fresh 1', 'fresh 2']);
    r.close();
    await waitFor('the resumed stream to close', async () => feature.sessions.size === 0);

    // A cursor beyond the end of every partition: nothing to catch up, live lines follow.
    const ahead = `${cursor
      .split(',')
      .map((p) => p.replace(/:\d+$/, ':9999999999999'))
      .join(',')}~${tag}`;
    const f = open(url, { Accept: 'text/event-stream', 'Last-Event-ID': ahead });
    await waitFor('stream resumed from the future', async () => f.status === 200);
    await produce(a1, ['fresh 3']);
    await waitFor('live line', async () => f.data().some((d) => d.endsWith('fresh 3')));
    expect(f.data().map((d) => d.slice(d.lastIndexOf(': ') + 2))).toEqual(['fresh 3']);
    f.close();
  });

  it('concurrent Kafka read-backs are bounded per node: past the queue a cold history read is 429 with Retry-After', async () => {
    // k3's ring is cold (no session read it yet): its history needs a read-back. Take the node's only slot.
    await feature.hub.readbacks.acquire();
    const url = await session(k3, { lines: 5, tail: false });
    let released = false;
    try {
      const busy = await request(server).get(new URL(url).pathname);
      expect(busy.status).toBe(429);
      expect(busy.headers['retry-after']).toBe('5');
      expect(busy.body).toEqual({ id: 'rate_limited', message: 'Too many log history reads are in progress on this node; retry later.' });
      feature.hub.readbacks.release();
      released = true;
      const ok = await request(server).get(new URL(url).pathname);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain(`hello from ${a3}`);
    } finally {
      if (!released) feature.hub.readbacks.release();
    }
    expect(feature.hub.readbacks.running).toBe(0);
  });
});
