/**
 * Bounds on the CPU a log session's filter may take (security review of log-session filters):
 * an accepted RE2 filter can still cost ~0.1–0.2 s on a 10 KB line, so history and resume filter
 * in slices that yield to the event loop and stop at a total budget, and a live session is ended
 * when its filter takes too much of any one-second window.
 */
import { performance } from 'node:perf_hooks';
import type { LogLine } from '../log/line';
import { logwayNotice } from '../log/format';
import { FILTER_HISTORY_BUDGET_MS, FILTER_LIVE_BUDGET_MS, FILTER_LIVE_WINDOW_MS, FILTER_SLICE_MS } from '../log/regex';

export interface SlicedFilterOptions {
  /** Stop once this many lines matched (the newest ones). Default: all. */
  want?: number;
  /** Total filter time before the scan stops (ms). */
  budgetMs?: number;
  /** Yield to the event loop after this much work (ms). */
  sliceMs?: number;
  /** Injectable for tests. */
  clock?: () => number;
  yieldToLoop?: () => Promise<void>;
}

export interface SlicedFilterResult {
  /** The matches, oldest first (the input's order). */
  lines: LogLine[];
  /** True when the budget ran out before the scan reached the oldest line. */
  exhausted: boolean;
}

const setImmediateYield = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The lines `test` takes, scanned newest (last) to oldest so a budget that runs out keeps the
 * most recent matches. Yields to the event loop whenever sliceMs passed since the last yield; the
 * time spent waiting for the loop does not count against the budget.
 */
export async function filterNewestFirst(lines: LogLine[], test: (line: LogLine) => boolean, opts: SlicedFilterOptions = {}): Promise<SlicedFilterResult> {
  const want = opts.want ?? Infinity;
  const budget = opts.budgetMs ?? FILTER_HISTORY_BUDGET_MS;
  const sliceMs = opts.sliceMs ?? FILTER_SLICE_MS;
  const clock = opts.clock ?? (() => performance.now());
  const yieldToLoop = opts.yieldToLoop ?? setImmediateYield;
  const out: LogLine[] = [];
  let spent = 0;
  let sliceStart = clock();
  for (let i = lines.length - 1; i >= 0 && out.length < want; i--) {
    if (test(lines[i])) out.push(lines[i]);
    const now = clock();
    if (now - sliceStart < sliceMs) continue;
    spent += now - sliceStart;
    if (spent >= budget) return { lines: out.reverse(), exhausted: i > 0 && out.length < want };
    await yieldToLoop();
    sliceStart = clock();
  }
  return { lines: out.reverse(), exhausted: false };
}

export const filterTooExpensiveMessage = (budgetMs: number) =>
  `Error L12 (Filter too expensive) -> This log session's filter used its ${budgetMs} ms budget; older lines were not searched.`;

/** The L11-shaped notice put before a history (or resume) the filter budget cut short. */
export function l12Line(appKey: string, now: Date, kind: 'app' | 'site' = 'app', budgetMs = FILTER_HISTORY_BUDGET_MS): LogLine {
  return logwayNotice(appKey, kind, filterTooExpensiveMessage(budgetMs), now);
}

/**
 * Filter time of one live session over a sliding window, kept in ten buckets (a tenth of the
 * window each): over() is true once the last window's worth of buckets sums past the budget.
 */
export class LiveFilterBudget {
  private readonly bucketMs: number;
  private buckets = new Float64Array(10);
  /** Index (in bucketMs units since the epoch of `now`) of the newest bucket. */
  private current = -1;
  private sum = 0;

  constructor(
    private readonly budgetMs = FILTER_LIVE_BUDGET_MS,
    windowMs = FILTER_LIVE_WINDOW_MS,
  ) {
    this.bucketMs = windowMs / this.buckets.length;
  }

  /** Adds `costMs` of filter time spent at `nowMs`; true when the window now holds more than the budget. */
  add(costMs: number, nowMs: number): boolean {
    const n = this.buckets.length;
    const idx = Math.floor(nowMs / this.bucketMs);
    if (idx > this.current) {
      const stale = Math.min(n, this.current < 0 ? n : idx - this.current);
      for (let k = 1; k <= stale; k++) {
        const j = (idx - stale + k + n) % n;
        this.sum -= this.buckets[j];
        this.buckets[j] = 0;
      }
      this.current = idx;
    }
    this.buckets[this.current % n] += costMs;
    this.sum += costMs;
    return this.sum > this.budgetMs;
  }
}
