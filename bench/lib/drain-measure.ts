/** One drain benchmark run measured: lines/s at the sink, the CPU and RSS of the processes doing the work, and /health/live beside it. */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { CpuWindow, rssBytes, sleep } from './proc';

export interface Result {
  name: string;
  lines: number;
  seconds: number;
  linesPerSec: number;
  /** CPU of the process and its worker processes, commit → last line. */
  cpuSeconds: number;
  /** Seconds from the commit (CPU baselines) to the last line. */
  cpuWindow: number;
  cpuPercent: number;
  /** Processes whose CPU was counted. */
  processes: number;
  /** CPU seconds per process, the root (node or rsyslogd) first. */
  cpuSplit: number[];
  /** Pids that appeared or vanished mid-run (their CPU is incomplete); empty when none. */
  cpuFlags: string;
  peakRssMb: number;
  /** Frames at the sink 2 s after the count was reached (more than `lines`: duplicates). */
  framesLater?: number;
  /** GET /health/live on the node's process during the run: p50, p99, max (ms). */
  live?: { p50: number; p99: number; max: number };
}

/** Times GET /health/live every 20 ms until stopped. */
export function probeLive(port: number): () => Result['live'] {
  const samples: number[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/health/live', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', () => resolve());
      });
      samples.push(performance.now() - t0);
      await sleep(20);
    }
  })();
  return () => {
    running = false;
    const s = [...samples].sort((a, b) => a - b);
    const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10;
    return s.length ? { p50: at(0.5), p99: at(0.99), max: at(1) } : undefined;
  };
}

/**
 * Takes the CPU baselines of `pid` and its descendants, calls release() (commits the lines), then waits until the
 * counter reaches `lines`, sampling CPU and RSS every 100 ms.
 */
export async function measure(
  name: string,
  lines: number,
  pid: number,
  counter: () => { count: number; first: number; last: number },
  release: () => Promise<void>,
  timeoutMs = 600_000,
): Promise<Result> {
  const deadline = Date.now() + timeoutMs;
  const cpu = new CpuWindow(pid);
  let peakRss = 0;
  let lastCount = -1;
  let stalledSince = Date.now();
  cpu.start();
  await release();
  while (counter().count < lines) {
    if (Date.now() > deadline) throw new Error(`${name}: only ${counter().count}/${lines} lines after ${timeoutMs} ms`);
    cpu.sample();
    peakRss = Math.max(peakRss, rssBytes(pid));
    if (counter().count !== lastCount) {
      lastCount = counter().count;
      stalledSince = Date.now();
    } else if (Date.now() - stalledSince > 30_000) {
      throw new Error(`${name}: stalled at ${lastCount}/${lines} lines`);
    }
    await sleep(100);
  }
  cpu.sample();
  const window = (performance.now() - cpu.startedAt) / 1000;
  const cpuSeconds = cpu.seconds();
  peakRss = Math.max(peakRss, rssBytes(pid));
  const c = counter();
  const seconds = (c.last - c.first) / 1000;
  const flags = [
    ...(cpu.late.size ? [`pids first seen mid-run (counted from then): ${[...cpu.late].join(',')}`] : []),
    ...(cpu.gone.size ? [`pids gone mid-run: ${[...cpu.gone].join(',')}`] : []),
  ];
  return {
    name,
    lines: c.count,
    seconds,
    linesPerSec: Math.round(c.count / seconds),
    cpuSeconds,
    cpuWindow: window,
    cpuPercent: Math.round((cpuSeconds / window) * 100),
    processes: cpu.pids(),
    cpuSplit: cpu.split(),
    cpuFlags: flags.join('; '),
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  };
}

/** One result as a line of the report. */
export function printResult(r: Result): void {
  console.log(
    `${r.name.padEnd(40)} ${String(r.linesPerSec).padStart(8)} lines/s  (${r.lines} lines in ${r.seconds.toFixed(2)} s)  CPU ${r.cpuSeconds.toFixed(2)} s over ${r.cpuWindow.toFixed(2)} s (${r.processes} processes: ${r.cpuSplit.map((c) => c.toFixed(2)).join(' + ')}) = ${r.cpuPercent}% of a core, ${((r.cpuSeconds / r.lines) * 1e6).toFixed(1)} µs/line  peak RSS ${r.peakRssMb} MB` +
      (r.cpuFlags ? `  CPU INCOMPLETE: ${r.cpuFlags}` : '') +
      (r.live ? `  /health/live p50 ${r.live.p50} ms p99 ${r.live.p99} ms max ${r.live.max} ms` : '') +
      (r.framesLater !== undefined ? `  frames at the sink 2 s later: ${r.framesLater}` : ''),
  );
}
