/**
 * Log-session filter budgets (security review: an accepted RE2 filter costs ~0.1–0.2 s on a
 * 10 KB line). Slow filters are fakes: an injected clock that each test advances, or a filter
 * that busy-waits; the only times asserted are the budgets the logic itself is given.
 */
import type { ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import type { LogLine } from '../../lib/log/line';
import type { LineFilter } from '../../lib/log/filter';
import { createLogger } from '../../lib/logger';
import { filterNewestFirst, LiveFilterBudget, filterTooExpensiveMessage } from '../../lib/tail/filter-budget';
import { HistoryReader, HistoryOptions } from '../../lib/tail/history';
import type { Core } from '../../lib/core';
import type { HubPositions } from '../../lib/tail/hub-positions';
import type { ReadbackLimiter } from '../../lib/tail/readbacks';
import type { RingStore } from '../../lib/tail/ring';
import { createTailMetrics } from '../../lib/tail/metrics';
import { TailSession } from '../../lib/tail/session';
import { FakeResponse as FakeRes } from '../helpers/fake-response';
import { numberedLine as line } from '../helpers/log-line';

const lines = (n: number) => Array.from({ length: n }, (_, i) => line(i));
const ids = (ls: LogLine[]) => ls.map((l) => Number(l.position.offset));

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A clock the filter advances by `costMs` per line it tests: a slow filter without real time. */
function fakeCost(costMs: number, match: (l: LogLine) => boolean = () => true) {
  let now = 0;
  let tested = 0;
  let yields = 0;
  return {
    clock: () => now,
    test: (l: LogLine) => {
      now += costMs;
      tested++;
      return match(l);
    },
    yieldToLoop: async () => {
      yields++;
    },
    stats: () => ({ tested, yields }),
  };
}

describe('filterNewestFirst', () => {
  it('scans newest to oldest, yields after every slice and stops at the budget with the newest matches, oldest first', async () => {
    const f = fakeCost(2, (l) => Number(l.position.offset) % 2 === 0);
    const r = await filterNewestFirst(lines(100), f.test, { budgetMs: 20, sliceMs: 5, clock: f.clock, yieldToLoop: f.yieldToLoop });
    // Slices of 3 lines (6 ms ≥ 5): the budget (20 ms) is reached in the 4th slice, after 12 lines (99..88).
    expect(f.stats()).toEqual({ tested: 12, yields: 3 });
    expect(r.exhausted).toBe(true);
    expect(ids(r.lines)).toEqual([88, 90, 92, 94, 96, 98]);
  });

  it('a scan that finishes within the budget is complete, and one that has `want` matches stops there', async () => {
    const all = fakeCost(1, (l) => Number(l.position.offset) % 10 === 0);
    const r = await filterNewestFirst(lines(15), all.test, { budgetMs: 20, sliceMs: 5, clock: all.clock, yieldToLoop: all.yieldToLoop });
    expect([r.exhausted, ids(r.lines), all.stats().tested]).toEqual([false, [0, 10], 15]);

    const some = fakeCost(1);
    const w = await filterNewestFirst(lines(1000), some.test, { want: 4, budgetMs: 20, clock: some.clock, yieldToLoop: some.yieldToLoop });
    expect([w.exhausted, ids(w.lines), some.stats().tested]).toEqual([false, [996, 997, 998, 999], 4]);
  });

  it('the budget spent exactly on the oldest line is not a cut-short scan', async () => {
    const f = fakeCost(5);
    const r = await filterNewestFirst(lines(4), f.test, { budgetMs: 20, sliceMs: 5, clock: f.clock, yieldToLoop: f.yieldToLoop });
    expect([r.exhausted, ids(r.lines)]).toEqual([false, [0, 1, 2, 3]]);
  });

  it('with a filter that really takes 2 ms a line, the event loop runs between slices before the scan ends at its budget', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('event loop'));
    const slow = (l: LogLine) => {
      busyWait(2);
      return l !== undefined;
    };
    const r = await filterNewestFirst(lines(1000), slow, { budgetMs: 100 }).then((res) => {
      order.push('scan done');
      return res;
    });
    expect(order).toEqual(['event loop', 'scan done']);
    expect(r.exhausted).toBe(true);
    // The newest lines, contiguous: 999 down to wherever the budget ran out.
    expect(r.lines.length).toBeLessThan(1000);
    expect(ids(r.lines)).toEqual(Array.from({ length: r.lines.length }, (_, i) => 1000 - r.lines.length + i));
  });
});

describe('LiveFilterBudget', () => {
  it('is over once more than the budget was spent within one window, in any position of the window', () => {
    const b = new LiveFilterBudget(200, 1000);
    expect(b.add(150, 50)).toBe(false);
    expect(b.add(40, 600)).toBe(false);
    expect(b.add(20, 950)).toBe(true);
  });

  it('time older than the window no longer counts (bucket granularity: a tenth of the window)', () => {
    const b = new LiveFilterBudget(200, 1000);
    expect(b.add(150, 50)).toBe(false);
    expect(b.add(150, 1150)).toBe(false);
    expect(b.add(60, 2000)).toBe(true);
    // Long idle: every bucket is stale.
    expect(b.add(199, 60_000)).toBe(false);
    expect(b.add(1, 60_500)).toBe(false);
    expect(b.add(1, 60_900)).toBe(true);
  });
});

function session(filter: LineFilter, budgetMs: number) {
  const res = new FakeRes();
  let closed = 0;
  const s = new TailSession(res as unknown as ServerResponse, {
    format: 'ndjson',
    key: 'api-space',
    filter,
    maxBufferedLines: 1000,
    metrics: createTailMetrics(new Registry()),
    liveFilterBudget: new LiveFilterBudget(budgetMs, 60_000),
    onClose: () => closed++,
  });
  const records = () =>
    res.chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type?: string; reason?: string; reconnect?: boolean; message: string });
  return { res, s, records, closed: () => closed };
}

/** A regex-marked filter (as compileFilter makes one) that busy-waits `ms` per line. */
const slowRegex = (ms: number): LineFilter =>
  Object.assign(
    () => {
      busyWait(ms);
      return true;
    },
    { usesRegex: true },
  );

/** The hub's fan-out: the filter first, then accept. */
const deliver = (s: TailSession, l: LogLine) => s.filter(l) && s.accept(l);

describe('TailSession live filter budget', () => {
  it('a session whose regex filter spends over its budget is ended with a filter_too_expensive closing line, reconnect false', async () => {
    const { res, s, records, closed } = session(slowRegex(5), 50);
    s.release([]);
    deliver(s, line(1));
    expect(s.isClosed).toBe(false);
    // 5 ms a line: past 50 ms by the 11th line at the latest.
    for (let i = 2; i <= 20 && !s.isClosed; i++) deliver(s, line(i));
    expect(s.isClosed).toBe(true);
    expect(res.ended).toBe(true);
    expect(closed()).toBe(1);
    const out = records();
    const end = out[out.length - 1];
    expect(end).toMatchObject({ type: 'end', reason: 'filter_too_expensive', reconnect: false });
    // Lines before the one that went over were delivered; at most 10 fit in 50 ms.
    expect(out.length - 1).toBeGreaterThanOrEqual(1);
    expect(out.length - 1).toBeLessThanOrEqual(10);
    // Once ended, the filter is not run again.
    expect(s.filter(line(21))).toBe(false);
  });

  it('while the history loads, an over-budget session is ended right after its history is written', () => {
    const { res, s, records } = session(slowRegex(5), 20);
    for (let i = 1; i <= 10; i++) deliver(s, line(100 + i));
    expect(res.chunks).toEqual([]);
    s.release([line(1)]);
    const out = records();
    expect(out[0].message).toBe('line 1');
    expect(out[out.length - 1]).toMatchObject({ type: 'end', reason: 'filter_too_expensive' });
  });

  it('a filter without a regex is never timed (its cost is bounded by the line, not the tenant)', () => {
    const plain: LineFilter = () => {
      busyWait(5);
      return true;
    };
    const { s } = session(plain, 1);
    s.release([]);
    for (let i = 1; i <= 3; i++) deliver(s, line(i));
    expect(s.isClosed).toBe(false);
  });
});

describe('HistoryReader filter budget', () => {
  function reader(ring: LogLine[], budgetMs: number, costMs: number) {
    const f = fakeCost(costMs, (l) => Number(l.position.offset) % 2 === 1);
    const rings = { peek: () => ({ warm: true, rooted: true, toArray: () => ring, covers: () => true }) } as unknown as RingStore;
    const opts: HistoryOptions = {
      historyScanMessages: 100,
      readTimeoutMs: 1000,
      groupIdPrefix: 'x',
      filterBudget: { budgetMs, sliceMs: 5, clock: f.clock, yieldToLoop: f.yieldToLoop },
    };
    const r = new HistoryReader({} as Core, {} as HubPositions, rings, {} as ReadbackLimiter, opts, createLogger('silent'));
    return { r, test: f.test };
  }
  const upTo = new Map([['space:0', 1000]]);

  it('history: the newest `lines` matches when the budget allows; the newest found and an L12 notice first when it runs out', async () => {
    const ample = reader(lines(100), 1000, 1);
    expect(ids(await ample.r.history({ kind: 'app', key: 'api-space', lines: 3, filter: ample.test }, upTo))).toEqual([95, 97, 99]);

    const tight = reader(lines(100), 20, 2);
    const got = await tight.r.history({ kind: 'app', key: 'api-space', lines: 50, filter: tight.test }, upTo);
    expect(got[0]).toMatchObject({ source: 'logway', appKey: 'api-space', message: filterTooExpensiveMessage(20) });
    expect(got[0].message).toMatch(/^Error L12 \(Filter too expensive\) -> /);
    expect(ids(got.slice(1))).toEqual([89, 91, 93, 95, 97, 99]);
  });

  it('catch-up: everything after the cursor within the budget; the newest matches and the notice when it runs out', async () => {
    const ample = reader(lines(20), 1000, 1);
    expect(ids(await ample.r.catchUp('api-space', new Map([['space:0', 15]]), upTo, ample.test))).toEqual([15, 17, 19]);

    const tight = reader(lines(100), 20, 2);
    const got = await tight.r.catchUp('api-space', new Map([['space:0', 0]]), upTo, tight.test);
    expect(got[0].message).toBe(filterTooExpensiveMessage(20));
    expect(ids(got.slice(1))).toEqual([89, 91, 93, 95, 97, 99]);
  });
});
