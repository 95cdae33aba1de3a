import { AppRing, RingStore, estimateLineBytes } from '../../lib/tail/ring';
import type { LogLine } from '../../lib/log/line';
import { appKeyLine } from '../helpers/log-line';

let n = 0;
const line = (appKey: string, partition: number, offset: number, message = `m${n++}`): LogLine =>
  appKeyLine(appKey, { time: new Date(1_700_000_000_000 + offset), message, position: { topic: appKey.split('-')[1], partition, offset: String(offset) } });

describe('AppRing', () => {
  it('keeps the last `capacity` lines in order and narrows its coverage as it drops', () => {
    const ring = new AppRing('a-s', 3, new Map([['s:0', 10]]));
    for (let o = 10; o < 15; o++) ring.push(line('a-s', 0, o));
    expect(ring.toArray().map((l) => l.position.offset)).toEqual(['12', '13', '14']);
    expect(ring.coverFrom.get('s:0')).toBe(12);
    expect(ring.covers(new Map([['s:0', 12]]))).toBe(true);
    expect(ring.covers(new Map([['s:0', 11]]))).toBe(false);
    expect(ring.covers(new Map([['s:1', 0]]))).toBe(false);
  });

  it('grows its storage up to capacity and accounts bytes', () => {
    const ring = new AppRing('a-s', 1500, new Map());
    const lines = Array.from({ length: 1600 }, (_, i) => line('a-s', i % 3, i));
    lines.forEach((l) => ring.push(l));
    expect(ring.size).toBe(1500);
    expect(ring.toArray()).toEqual(lines.slice(100));
    expect(ring.bytes).toBe(lines.slice(100).reduce((b, l) => b + estimateLineBytes(l), 0));
  });

  it('replace keeps the newest lines and the coverage of what it drops', () => {
    const ring = new AppRing('a-s', 2, new Map());
    ring.replace([line('a-s', 0, 1), line('a-s', 0, 2), line('a-s', 0, 3)], new Map([['s:0', 0]]), true);
    expect(ring.toArray().map((l) => l.position.offset)).toEqual(['2', '3']);
    expect(ring.coverFrom.get('s:0')).toBe(2);
    expect(ring.rooted).toBe(false);
  });
});

describe('RingStore', () => {
  it('evicts least recently used apps to stay under the memory cap', () => {
    const per = estimateLineBytes(line('a-s', 0, 0, 'x'.repeat(10)));
    const store = new RingStore({ linesPerApp: 100, maxBytes: per * 10 });
    const cover = () => new Map<string, number>();
    for (let i = 0; i < 4; i++) store.push('a-s', line('a-s', 0, i, 'x'.repeat(10)), cover);
    for (let i = 0; i < 4; i++) store.push('b-s', line('b-s', 0, i, 'x'.repeat(10)), cover);
    store.push('a-s', line('a-s', 0, 4, 'x'.repeat(10)), cover); // a is now the most recent
    for (let i = 0; i < 4; i++) store.push('c-s', line('c-s', 0, i, 'x'.repeat(10)), cover);
    expect(store.totalBytes).toBeLessThanOrEqual(per * 10);
    expect(store.peek('b-s')).toBeUndefined();
    expect(store.peek('a-s')?.size).toBe(5);
    expect(store.peek('c-s')?.size).toBe(4);
    // One app alone over the cap shrinks instead of being dropped.
    for (let i = 0; i < 30; i++) store.push('d-s', line('d-s', 0, i, 'x'.repeat(10)), cover);
    expect(store.peek('d-s')!.size).toBe(10);
    expect(store.totalBytes).toBeLessThanOrEqual(per * 10);
  });
});
