/** Milliseconds histogram, 0.1 ms resolution up to 60 s. */
export class Histogram {
  private buckets: Uint32Array = new Uint32Array(600_001);
  count = 0;
  max = 0;
  static from(buckets: Uint32Array, count: number, max: number): Histogram {
    const h = new Histogram();
    h.buckets = buckets;
    h.count = count;
    h.max = max;
    return h;
  }
  add(ms: number): void {
    const b = Math.min(600_000, Math.max(0, Math.round(ms * 10)));
    this.buckets[b]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  pct(p: number): number {
    const target = Math.ceil(this.count * p);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i];
      if (seen >= target) return i / 10;
    }
    return NaN;
  }
  summary(): string {
    return `p50 ${this.pct(0.5).toFixed(1)} ms, p99 ${this.pct(0.99).toFixed(1)} ms, max ${this.max.toFixed(1)} ms (n=${this.count})`;
  }
}
