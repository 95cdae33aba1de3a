/** SSE ids of a session fed by the hub: each event's id is the cursor after that line (encodeCursor of the positions). */
import type { ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { TailSession } from '../../lib/tail/session';
import { createTailMetrics } from '../../lib/tail/metrics';
import { encodeCursor, positionKey, Positions } from '../../lib/tail/positions';
import type { LogLine } from '../../lib/log/line';
import { toAkkerisText, toNdjson } from '../../lib/log/format';
import { FakeResponse as FakeRes } from '../helpers/fake-response';
import { logLine } from '../helpers/log-line';

const line = (topic: string, partition: number, offset: number): LogLine =>
  logLine({ message: `${topic} ${partition} ${offset}`, position: { topic, partition, offset: String(offset) } });
const tick = () => new Promise((r) => setImmediate(r));

function session(start: Positions) {
  const res = new FakeRes();
  const s = new TailSession(res as unknown as ServerResponse, {
    format: 'sse',
    key: 'api-space',
    filter: () => true,
    maxBufferedLines: 1000,
    metrics: createTailMetrics(new Registry()),
    onClose: () => undefined,
  });
  s.begin(start);
  s.release([]);
  return { res, s };
}

describe('TailSession SSE cursor ids', () => {
  it('match encodeCursor of the positions after each line, for two sessions sharing the lines, new partitions included', async () => {
    const startA: Positions = new Map([
      ['space:0', 100],
      ['space:1', 7],
      ['alamoweblogs:0', 3],
    ]);
    const startB: Positions = new Map([
      ['alamoweblogs:0', 1],
      ['space:0', 90],
    ]);
    const a = session(startA);
    const b = session(startB);
    const posA = new Map(startA);
    const posB = new Map(startB);
    const want = { a: [] as string[], b: [] as string[] };
    const feed = [
      line('space', 0, 100),
      line('space', 1, 7),
      line('space', 0, 101),
      line('alamoweblogs', 0, 3),
      line('space', 2, 0),
      line('alamobuildlogs', 1, 55),
      line('space', 0, 102),
    ];
    for (const l of feed) {
      a.s.accept(l);
      posA.set(positionKey(l.position), Number(l.position.offset) + 1);
      want.a.push(encodeCursor(posA));
      if (l.position.partition !== 1) {
        b.s.accept(l);
        posB.set(positionKey(l.position), Number(l.position.offset) + 1);
        want.b.push(encodeCursor(posB));
      }
    }
    await tick();
    const ids = (res: FakeRes) => [...res.chunks.join('').matchAll(/^id: (.*)$/gm)].map((m) => m[1]);
    expect(ids(a.res)).toEqual(want.a);
    expect(ids(b.res)).toEqual(want.b);
    expect(a.s.cursorId).toBe(want.a[want.a.length - 1]);
    expect(want.a[4]).toBe('space:0:102,space:1:8,alamoweblogs:0:4,space:2:1');
  });

  it('renderings shared between sessions follow each line (text and NDJSON, interleaved)', async () => {
    const mk = (format: 'text' | 'ndjson') => {
      const res = new FakeRes();
      const s = new TailSession(res as unknown as ServerResponse, {
        format,
        key: 'api-space',
        filter: () => true,
        maxBufferedLines: 1000,
        metrics: createTailMetrics(new Registry()),
        onClose: () => undefined,
      });
      s.release([]);
      return { res, s };
    };
    const t1 = mk('text');
    const n1 = mk('ndjson');
    const n2 = mk('ndjson');
    const feed = [line('space', 0, 1), line('space', 0, 2), line('space', 1, 2)];
    for (const l of feed) {
      n1.s.accept(l);
      t1.s.accept(l);
      n2.s.accept(l);
    }
    n1.s.accept(feed[0]);
    await tick();
    const nd = feed.map(toNdjson).join('');
    expect(n1.res.chunks.join('')).toBe(nd + toNdjson(feed[0]));
    expect(n2.res.chunks.join('')).toBe(nd);
    expect(t1.res.chunks.join('')).toBe(feed.map((l) => `${toAkkerisText(l)}\n`).join(''));
  });
});
