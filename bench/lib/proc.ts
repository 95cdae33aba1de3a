/** What the benchmarks read from /proc about the processes they measure (Linux only): CPU and RSS. */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process and its descendants (the drain worker processes). */
export function family(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children.flatMap(family)];
}

export function ownCpuTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined; // gone
  }
}

/**
 * CPU of a process and its descendants from a baseline, summed per pid: each pid present at start() counts
 * from its ticks then; one first seen later counts from its first sighting and is flagged (its ticks before
 * are lost, e.g. a worker process replaced mid-run); one that vanishes keeps its last sampled ticks (flagged).
 */
export class CpuWindow {
  private base = new Map<number, number>();
  private last = new Map<number, number>();
  readonly late = new Set<number>();
  readonly gone = new Set<number>();
  startedAt = 0;
  constructor(private root: number) {}
  start(): void {
    this.startedAt = performance.now();
    for (const p of family(this.root)) {
      const t = ownCpuTicks(p);
      if (t === undefined) continue;
      this.base.set(p, t);
      this.last.set(p, t);
    }
  }
  sample(): void {
    const now = new Set(family(this.root));
    for (const p of now) {
      const t = ownCpuTicks(p);
      if (t === undefined) continue;
      if (!this.base.has(p)) {
        this.base.set(p, t);
        this.late.add(p);
      }
      this.last.set(p, t);
    }
    for (const p of this.base.keys()) if (!now.has(p)) this.gone.add(p);
  }
  seconds(): number {
    let ticks = 0;
    for (const [p, b] of this.base) ticks += (this.last.get(p) ?? b) - b;
    return ticks / CLK_TCK;
  }
  pids(): number {
    return this.base.size;
  }
  /** CPU seconds per pid, the root first. */
  split(): number[] {
    return [...this.base].map(([p, b]) => ((this.last.get(p) ?? b) - b) / CLK_TCK);
  }
}

export function rssBytes(pid: number): number {
  return family(pid).reduce((n, p) => n + ownRssBytes(p), 0);
}

export function ownRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** User + system CPU seconds of one process so far (NaN once it is gone). */
export function cpuSeconds(pid: number): number {
  const ticks = ownCpuTicks(pid);
  return ticks === undefined ? NaN : ticks / CLK_TCK;
}

/** The local Kafka broker's process (its CPU is printed beside the node's), if there is one. */
export function brokerPid(): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (/kafka\.Kafka/.test(fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'))) return Number(d);
    } catch {
      /* gone */
    }
  }
  return undefined;
}
