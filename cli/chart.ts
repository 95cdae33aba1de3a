/** Small terminal charts for `logway metrics`: a sparkline per series, resampled to the width available. */

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** Averages `values` into at most `width` buckets, keeping their order. */
export function resample(values: number[], width: number): number[] {
  const w = Math.max(1, Math.floor(width));
  if (values.length <= w) return values.slice();
  const out: number[] = [];
  for (let i = 0; i < w; i++) {
    const from = Math.floor((i * values.length) / w);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / w));
    let sum = 0;
    for (let j = from; j < to; j++) sum += values[j];
    out.push(sum / (to - from));
  }
  return out;
}

/** One character per value: ▁ for the minimum, █ for the maximum; a flat series is all ▁ (or all ▄ when not zero). */
export function sparkline(values: number[], width = 60): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const points = resample(finite, width);
  const min = Math.min(...points);
  const max = Math.max(...points);
  if (max === min) return (min === 0 ? BLOCKS[0] : BLOCKS[3]).repeat(points.length);
  return points.map((v) => BLOCKS[Math.min(BLOCKS.length - 1, Math.floor(((v - min) / (max - min)) * BLOCKS.length))]).join('');
}

/** A horizontal bar `████▌` of `value` on a scale where `max` fills `width` cells (eighth-cell resolution). */
export function bar(value: number, max: number, width = 30): string {
  if (!(max > 0) || !(value > 0)) return '';
  const eighths = Math.round((Math.min(value, max) / max) * width * 8);
  const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  return '█'.repeat(Math.floor(eighths / 8)) + partial[eighths % 8];
}

/** Human units like `aka metrics`: bytes in MB, seconds-counters as rates, else the number. */
export function metricUnit(metric: string): { unit: string; scale: (v: number) => number } {
  if (metric.includes('seconds')) return { unit: 's/s', scale: (v) => v };
  if (/bytes|rss|working|cache/.test(metric)) {
    return metric.endsWith('_total') ? { unit: 'MB/s', scale: (v) => v / 1024 / 1024 } : { unit: 'MB', scale: (v) => v / 1024 / 1024 };
  }
  if (metric.endsWith('_total')) return { unit: '/s', scale: (v) => v };
  return { unit: '', scale: (v) => v };
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(3);
  return v.toExponential(2);
}
