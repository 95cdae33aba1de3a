import { parseMetricsQuery, parseResolution, parseTime } from '../../lib/metrics/params';
import { Unprocessable } from '../../lib/errors';

const NOW = Date.parse('2016-08-16T02:21:10Z') / 1000; // 1471314070

function reject(query: Record<string, unknown>): Unprocessable {
  try {
    parseMetricsQuery(query, NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(Unprocessable);
    return e as Unprocessable;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

describe('parseResolution', () => {
  it.each([
    ['10s', 10],
    ['1m', 60],
    ['5m', 300],
    ['10m', 600],
    ['15m', 900],
    ['20m', 1200],
    ['30m', 1800],
    ['1h', 3600],
    ['6h', 21600],
    ['12h', 43200],
    ['1d', 86400],
    ['90s', 90],
  ])('%s → %i s', (raw, seconds) => {
    expect(parseResolution(raw)).toBe(seconds);
  });

  it.each(['10x', '10', 'm', '1.5m', '-1m', '1 m', '10M', "1m'", '1m;', '1m\n', ''])('syntax: %j is rejected naming resolution', (raw) => {
    expect(() => parseResolution(raw)).toThrow(/^The specified resolution .* is not valid: use a whole number followed by s, m, h or d/);
  });

  it.each(['0m', '5s', '9s', '0s'])('minimum: %s is rejected', (raw) => {
    expect(() => parseResolution(raw)).toThrow(`The specified resolution "${raw}" is too small: the minimum is 10s.`);
  });
});

describe('parseTime', () => {
  it.each([
    ['2016-08-16T02:21:10Z', 1471314070],
    ['2016-08-16T02:21:10.500Z', 1471314070.5],
    ['2016-08-16T04:21:10+02:00', 1471314070],
    ['2016-08-15T21:21:10-0500', 1471314070],
    ['2016-08-16T02:21:10', 1471314070],
    ['2016-08-16T02:21Z', 1471314060],
    ['2016-08-16', 1471305600],
    ['1471314070', 1471314070],
    ['1471314070.25', 1471314070.25],
  ])('%s → %d', (raw, seconds) => {
    expect(parseTime('from', raw)).toBeCloseTo(seconds, 6);
  });

  it.each(['2016-02-30', '2016-13-01', '2016-08-16T25:00:00Z', 'yesterday', '16/08/2016', "2016-08-16'", '2016-08-16T02:21:10Z; DROP', '1e9', ''])(
    '%j is rejected naming the parameter',
    (raw) => {
      expect(() => parseTime('to', raw)).toThrow(/^The specified to .* is not a valid date: use ISO 8601 \(e\.g\. 2016-08-16T02:21:10Z\) or epoch seconds\.$/);
    },
  );
});

describe('parseMetricsQuery', () => {
  it('defaults: to now, from a week earlier, resolution 30m, mean; range aligned to buckets', () => {
    const r = parseMetricsQuery({}, NOW);
    expect(r.resolution).toBe(1800);
    expect(r.stat).toBe('mean');
    expect(r.to).toBe(Math.ceil(NOW / 1800) * 1800);
    expect(r.from).toBe(Math.floor((NOW - 7 * 86400) / 1800) * 1800);
    expect((r.to - r.from) / 1800).toBe(337);
  });

  it('without from, a fine resolution keeps the last 1,000 buckets (aka metrics -r 10m sends only the resolution)', () => {
    const r = parseMetricsQuery({ resolution: '10m' }, NOW);
    expect((r.to - r.from) / 600).toBe(1000);
    const m = parseMetricsQuery({ resolution: '1m' }, NOW);
    expect((m.to - m.from) / 60).toBe(1000);
    expect(m.to).toBe(Math.ceil(NOW / 60) * 60);
  });

  it('explicit range: from rounds down, to rounds up to bucket boundaries', () => {
    const r = parseMetricsQuery({ from: '2016-08-16T00:05:00Z', to: '2016-08-16T01:05:00Z', resolution: '10m', stat: 'p90' }, NOW);
    expect(r).toEqual({ resolution: 600, from: Date.parse('2016-08-16T00:00:00Z') / 1000, to: Date.parse('2016-08-16T01:10:00Z') / 1000, stat: 'p90' });
  });

  it('from ≥ to', () => {
    expect(reject({ from: '2016-08-16T00:00:00Z', to: '2016-08-16T00:00:00Z' }).message).toBe(
      'The specified from (2016-08-16T00:00:00Z) must be before to (2016-08-16T00:00:00Z).',
    );
    expect(reject({ from: '1471314071' }).message).toMatch(/^The specified from .* must be before to/);
  });

  it('more than 1,000 buckets', () => {
    expect(reject({ from: '2016-08-09T02:21:10Z', resolution: '1m' }).message).toBe(
      'The specified from and to span 10081 buckets at resolution 1m; at most 1000 are allowed: use a coarser resolution or a shorter range.',
    );
    // exactly 1,000 is fine
    expect(() => parseMetricsQuery({ from: '0', to: String(1000 * 60), resolution: '1m' }, NOW)).not.toThrow();
    expect(reject({ from: '0', to: String(1000 * 60 + 1), resolution: '1m' }).message).toMatch(/1001 buckets/);
  });

  it('far future', () => {
    expect(reject({ to: String(NOW + 2 * 86400) }).message).toBe('The specified to (2016-08-18T02:21:10Z) is too far in the future: at most 1 day after now.');
    expect(() => parseMetricsQuery({ to: String(NOW + 3600), from: String(NOW - 3600) }, NOW)).not.toThrow();
    expect(reject({ from: '2999-01-01' }).message).toMatch(/^The specified from .* must be before to/);
  });

  it('bad values name their parameter', () => {
    expect(reject({ resolution: '10x' }).message).toMatch(/^The specified resolution "10x" is not valid/);
    expect(reject({ resolution: '0m' }).message).toMatch(/^The specified resolution "0m" is too small/);
    expect(reject({ resolution: '5s' }).message).toMatch(/^The specified resolution "5s" is too small/);
    expect(reject({ from: 'last tuesday' }).message).toMatch(/^The specified from "last tuesday" is not a valid date/);
    expect(reject({ to: '2016-02-30' }).message).toMatch(/^The specified to "2016-02-30" is not a valid date/);
    expect(reject({ stat: 'max' }).message).toBe('The specified stat "max" is not valid: use mean or p90.');
    expect(reject({ resolution: ['1m', '5m'] }).message).toBe('The specified resolution was given more than once or is not a plain value.');
  });
});
