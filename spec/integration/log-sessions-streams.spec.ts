/** Log-session streams over time (real Kafka): SSE events, keepalives and resuming; a slow client's L11 line (docs/design.md §3). */
import type { TailFeature } from '../../lib/tail/feature';
import { uniqueName } from '../helpers/env';
import type { Stream } from '../helpers/stream';
import { TailNode } from '../helpers/tail-node';

jest.setTimeout(90_000);

describe('log-session streams (real Kafka)', () => {
  let node: TailNode;
  let feature: TailFeature;
  const space = uniqueName('sp');
  const a1 = uniqueName('a');
  const k1 = `${a1}-${space}`;

  beforeAll(async () => {
    // A client that keeps up gets every line as long as no single burst (one event-loop turn of
    // the hub) is larger than its byte budget: 16 MiB here, more than the whole slow-client test.
    node = await TailNode.start({
      space,
      feature: { reading: 'every-topic', keepaliveMs: 300, retryMs: 1500, sessionBufferLines: 50, sessionBufferBytes: 16 * 1024 * 1024 },
    });
    ({ feature } = node);
    await node.produce(a1, ['a first line']);
    await node.subscribed(k1);
  });

  afterAll(() => node?.stop());

  it('SSE: retry hint, ids, data lines, keepalive, clean end; Last-Event-ID resumes without history', async () => {
    const hist = await node.produce(a1, [{ log: 'sse h1' }, { log: 'sse h2' }]);
    await node.consumed(k1, 'sse h2');
    const url = await node.session(k1, { lines: 2, tail: true });
    const s = node.open(url, { Accept: 'text/event-stream' });
    await s.until((x) => x.text.includes('data: ' + hist[1]), 20000, 'history events');
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.text.startsWith('retry: 1500\n\n')).toBe(true);
    await s.until((x) => x.text.includes(': keepalive\n'), 20000, 'keepalive comment');
    const live1 = await node.produce(a1, [{ log: 'sse l1' }]);
    await s.until((x) => x.text.includes('data: ' + live1[0]), 20000, 'live event');
    const events = s.text.split('\n\n').filter((e) => e.startsWith('id: '));
    expect(events.map((e) => e.split('\n')[1])).toEqual([...hist, ...live1].map((l) => `data: ${l}`));
    const lastId = events[events.length - 1].split('\n')[0].slice(4);
    expect(lastId).toMatch(new RegExp(`(^|,)${space}:\\d+:\\d+`));
    s.close();

    // While the client is away, more lines; the resumed stream starts right after the last id.
    const missed = await node.produce(a1, [{ log: 'sse m1' }, { log: 'sse m2' }]);
    const r = node.open(url, { Accept: 'text/event-stream', 'Last-Event-ID': lastId });
    await r.until((x) => x.text.includes('data: ' + missed[1]), 20000, 'missed lines after resume');
    const live2 = await node.produce(a1, [{ log: 'sse l2' }]);
    await r.until((x) => x.text.includes('data: ' + live2[0]), 20000, 'live after resume');
    const data = r.text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(data).toEqual([...missed, ...live2]);
    r.close();

    // Without tail the SSE response ends cleanly after the history.
    const n = node.open(await node.session(k1, { lines: 1, tail: false }), { Accept: 'text/event-stream' });
    await n.done();
    expect(n.text).toMatch(/^retry: 1500\n\nid: \S+\ndata: \S+Z \S+ app\[web\.\S+\]: sse l2\n\n$/);
  });

  it('a slow client gets the L11 line later; the other sessions get every line', async () => {
    const url = await node.session(k1, { lines: 1, tail: true });
    const slow = node.open(url);
    const fast = node.open(url);
    await slow.until((x) => x.lines().length >= 1);
    await fast.until((x) => x.lines().length >= 1);
    slow.res!.pause();
    const droppedBefore = (await feature.hub.metrics.linesDropped.get()).values[0]?.value ?? 0;
    const pad = 'x'.repeat(2000);
    const total = 6000;
    for (let i = 0; i < total; i += 200) {
      await node.produce(
        a1,
        Array.from({ length: 200 }, (_, j) => ({ log: `slow ${i + j} ${pad}` })),
      );
    }
    await fast.until((x) => x.text.includes(`slow ${total - 1} `), 60000, 'all lines at the fast reader');
    const fastLines = fast.lines().filter((l) => l.includes(': slow '));
    expect(fastLines).toHaveLength(total);
    expect(fastLines.map((l) => Number(/: slow (\d+) /.exec(l)![1]))).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(fast.text).not.toContain('Error L11');
    const droppedAfter = (await feature.hub.metrics.linesDropped.get()).values[0]?.value ?? 0;
    expect(droppedAfter).toBeGreaterThan(droppedBefore);

    slow.res!.resume();
    await slow.until((x) => x.text.includes('Error L11 (Tail buffer overflow)'), 60000, 'the L11 line');
    const l11 = slow.lines().find((l) => l.includes('Error L11'))!;
    expect(l11).toMatch(new RegExp(`^\\S+Z ${k1} logway: Error L11 \\(Tail buffer overflow\\) -> This tail session dropped \\d+ messages since \\S+Z\\.$`));
    const counted = (x: Stream) => ({
      got: x.lines().filter((l) => l.includes(': slow ')).length,
      dropped: x
        .lines()
        .filter((l) => l.includes('Error L11'))
        .reduce((n, l) => n + Number(/dropped (\d+) messages/.exec(l)![1]), 0),
    });
    // Every line is either delivered or counted by an L11 line: produced = delivered + dropped.
    await slow.until((x) => counted(x).got + counted(x).dropped === total, 20000, 'every line delivered or counted');
    expect(counted(slow).dropped).toBeGreaterThan(0);
    expect(counted(slow).got + counted(slow).dropped).toBe(total);
    slow.close();
    fast.close();
  });
});
