import { fullJitterDelay, worstCaseBackoffMs } from '../../drains/backoff';

describe('full-jitter backoff', () => {
  const policy = { baseMs: 100, capMs: 1000 };
  it('draws from [0, min(cap, base·2^n))', () => {
    expect(fullJitterDelay(1, policy, () => 0.999)).toBe(99);
    expect(fullJitterDelay(2, policy, () => 0.999)).toBe(199);
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(200);
    expect(fullJitterDelay(10, policy, () => 0.999)).toBe(999);
    expect(fullJitterDelay(1000, policy, () => 0.999)).toBe(999);
    expect(fullJitterDelay(4, policy, () => 0)).toBe(0);
  });
  it('spreads retries (not all at the ceiling)', () => {
    const draws = Array.from({ length: 200 }, () => fullJitterDelay(5, policy));
    expect(Math.min(...draws)).toBeLessThan(300);
    expect(Math.max(...draws)).toBeGreaterThan(700);
    expect(draws.every((d) => d >= 0 && d < 1000)).toBe(true);
  });
  it('bounds the total backoff of a batch', () => {
    expect(worstCaseBackoffMs({ ...policy, attempts: 5 })).toBe(100 + 200 + 400 + 800);
  });
});
