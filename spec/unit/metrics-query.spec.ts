import {
  acrossInstances,
  buildInstanceStatement,
  buildSeriesStatement,
  buildSeriesStatements,
  buildSnapshotStatement,
  mergeResults,
  seriesParams,
  shapeSeries,
  shapeSnapshot,
  percentile,
  splitAt,
} from '../../lib/metrics/query';
import { COUNTERS, GAUGES, METRIC_KIND, METRICS } from '../../lib/metrics/catalog';

describe('catalog', () => {
  it('has the 13 metrics of docs/design.md §3, 5 gauges and 8 counters', () => {
    expect(METRICS.map((m) => m.name)).toEqual([
      'cpu_system_seconds_total',
      'cpu_usage_seconds_total',
      'cpu_user_seconds_total',
      'fs_io_time_seconds_total',
      'fs_usage_bytes',
      'memory_cache',
      'memory_rss',
      'memory_usage_bytes',
      'memory_working_set_bytes',
      'network_receive_bytes_total',
      'network_receive_errors_total',
      'network_transmit_bytes_total',
      'network_transmit_errors_total',
    ]);
    expect(GAUGES).toEqual(['fs_usage_bytes', 'memory_cache', 'memory_rss', 'memory_usage_bytes', 'memory_working_set_bytes']);
    expect(COUNTERS).toHaveLength(8);
  });
});

describe('InfluxQL', () => {
  it('gauges: per-instance mean, then mean across instances, per process type, empty buckets left out', () => {
    expect(buildSeriesStatement(['memory_rss'], 'gauge', 'mean', 600)).toBe(
      'SELECT MEAN(v) AS value FROM (SELECT MEAN(value) AS v FROM "memory_rss" WHERE app = $app AND time >= $from AND time < $to ' +
        'GROUP BY time(600s), process_type, instance fill(none)) WHERE time >= $from AND time < $to GROUP BY time(600s), process_type fill(none)',
    );
  });

  it('counters: per-instance non-negative per-second rate from one bucket earlier, then p90 across instances', () => {
    expect(buildSeriesStatement(['cpu_usage_seconds_total', 'memory_rss'], 'counter', 'p90', 60)).toBe(
      'SELECT PERCENTILE(v, 90) AS value FROM (SELECT NON_NEGATIVE_DERIVATIVE(MEAN(value), 1s) AS v FROM /^(cpu_usage_seconds_total|memory_rss)$/ ' +
        'WHERE app = $app AND time >= $before AND time < $to GROUP BY time(60s), process_type, instance fill(none)) ' +
        'WHERE time >= $before AND time < $to GROUP BY time(60s), process_type fill(none)',
    );
  });

  it('node aggregation: per-instance series only (no subquery)', () => {
    expect(buildInstanceStatement(['memory_rss'], 'gauge', 600)).toBe(
      'SELECT MEAN(value) AS value FROM "memory_rss" WHERE app = $app AND time >= $from AND time < $to GROUP BY time(600s), process_type, instance fill(none)',
    );
    expect(buildInstanceStatement(['cpu_usage_seconds_total'], 'counter', 600)).toBe(
      'SELECT NON_NEGATIVE_DERIVATIVE(MEAN(value), 1s) AS value FROM "cpu_usage_seconds_total" WHERE app = $app AND time >= $before AND time < $to ' +
        'GROUP BY time(600s), process_type, instance fill(none)',
    );
    expect(buildSeriesStatements('kind', 'p90', 600, 'node').join(';')).not.toMatch(/PERCENTILE|FROM \(/);
  });

  it('plans: two statements by kind, or one per metric', () => {
    expect(buildSeriesStatements('kind', 'mean', 1800)).toHaveLength(2);
    const perMetric = buildSeriesStatements('metric', 'mean', 1800);
    expect(perMetric).toHaveLength(13);
    expect(perMetric.filter((s) => s.includes('NON_NEGATIVE_DERIVATIVE'))).toHaveLength(8);
  });

  it('user input only travels as bound parameters', () => {
    const app = `x' OR app != '"; DROP DATABASE logway\n`;
    const statements = buildSeriesStatements('kind', 'mean', 600).join(';');
    expect(statements).not.toContain('DROP');
    expect(seriesParams(app, 1471314000, 1471317600, 600)).toEqual({
      app,
      from: '2016-08-16T02:20:00.000Z',
      to: '2016-08-16T03:20:00.000Z',
      before: '2016-08-16T02:10:00.000Z',
    });
  });

  it('refuses a measurement name or resolution that is not a plain token (defence in depth)', () => {
    expect(() => buildSeriesStatement(['a"b'], 'gauge', 'mean', 60)).toThrow(/unsafe/);
    expect(() => buildSeriesStatement(['m'], 'gauge', 'mean', 1.5)).toThrow(/resolution/);
  });

  it('snapshot: the last two samples per series within the window', () => {
    const q = buildSnapshotStatement();
    expect(q).toMatch(
      /^SELECT value FROM \/\^\(cpu_system_seconds_total\|.*\|network_transmit_errors_total\)\$\/ WHERE app = \$app AND time >= \$since AND time <= \$now /,
    );
    expect(q).toMatch(/GROUP BY process_type, instance ORDER BY time DESC LIMIT 2$/);
  });
});

describe('shaping', () => {
  const results = [
    {
      statement_id: 0,
      series: [
        {
          name: 'memory_rss',
          tags: { process_type: 'worker' },
          columns: ['time', 'value'],
          values: [
            [1200, 5],
            [600, null],
            [0, 4],
          ],
        },
        { name: 'memory_rss', tags: { process_type: 'web' }, columns: ['time', 'value'], values: [[0, 1.5]] },
        { name: 'fs_usage_bytes', tags: { process_type: 'web' }, columns: ['time', 'value'], values: [[0, null]] },
      ],
    },
    {
      statement_id: 1,
      series: [{ name: 'cpu_usage_seconds_total', tags: { process_type: 'web' }, columns: ['time', 'value'], values: [[600, 0.25]] }],
    },
    { statement_id: 2 },
  ];

  it('process type → metric → epoch-second key → number; nulls and all-null metrics left out', () => {
    const shaped = shapeSeries(results);
    expect(shaped).toEqual({
      web: { cpu_usage_seconds_total: { '600': 0.25 }, memory_rss: { '0': 1.5 } },
      worker: { memory_rss: { '0': 4, '1200': 5 } },
    });
    expect(JSON.stringify(shaped)).toBe('{"web":{"cpu_usage_seconds_total":{"600":0.25},"memory_rss":{"0":1.5}},"worker":{"memory_rss":{"0":4,"1200":5}}}');
  });

  it('percentile is nearest rank, as InfluxDB computes PERCENTILE', () => {
    expect(percentile([3, 1, 2], 90)).toBe(3);
    expect(percentile([5], 90)).toBe(5);
    expect(
      percentile(
        Array.from({ length: 10 }, (_, i) => 10 - i),
        90,
      ),
    ).toBe(9);
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        90,
      ),
    ).toBe(18);
    expect(percentile([], 90)).toBeUndefined();
  });

  it('across instances: mean or p90 per process type, metric and bucket; buckets before from dropped', () => {
    const series = (name: string, pt: string, instance: string, values: [number, number | null][]) => ({
      name,
      tags: { process_type: pt, instance },
      columns: ['time', 'value'],
      values,
    });
    const perInstance = [
      {
        statement_id: 0,
        series: [
          series('memory_rss', 'web', 'a', [
            [0, 1],
            [600, 10],
          ]),
          series('memory_rss', 'web', 'b', [
            [0, 2],
            [1200, 7],
          ]),
          series('memory_rss', 'web', 'c', [
            [0, 6],
            [600, null],
          ]),
          series('memory_rss', 'worker', 'k', [
            [-600, 99],
            [600, 4],
          ]),
          series('fs_usage_bytes', 'worker', 'k', [[600, null]]),
        ],
      },
    ];
    expect(acrossInstances(perInstance, 'mean', 0)).toEqual({
      web: { memory_rss: { '0': 3, '600': 10, '1200': 7 } },
      worker: { memory_rss: { '600': 4 } },
    });
    expect(acrossInstances(perInstance, 'p90', 0)).toEqual({
      web: { memory_rss: { '0': 6, '600': 10, '1200': 7 } },
      worker: { memory_rss: { '600': 4 } },
    });
  });

  it('split at a bucket boundary and merged back gives the same answer', () => {
    const shaped = shapeSeries(results);
    const [closed, open] = splitAt(shaped, 600);
    expect(closed).toEqual({ web: { memory_rss: { '0': 1.5 } }, worker: { memory_rss: { '0': 4 } } });
    expect(open).toEqual({ web: { cpu_usage_seconds_total: { '600': 0.25 } }, worker: { memory_rss: { '1200': 5 } } });
    expect(JSON.stringify(mergeResults(closed, open))).toBe(JSON.stringify(shaped));
    expect(mergeResults(undefined, open)).toEqual(open);
  });

  it('snapshot: latest value per instance; counters get a rate from the last two samples, not after a reset', () => {
    const snap = shapeSnapshot(
      [
        {
          statement_id: 0,
          series: [
            {
              name: 'cpu_usage_seconds_total',
              tags: { process_type: 'web', instance: 'b' },
              columns: ['time', 'value'],
              values: [
                [20000, 50],
                [10000, 30],
              ],
            },
            {
              name: 'cpu_usage_seconds_total',
              tags: { process_type: 'web', instance: 'a' },
              columns: ['time', 'value'],
              values: [
                [20000, 1],
                [10000, 30],
              ],
            },
            {
              name: 'memory_rss',
              tags: { process_type: 'web', instance: 'a' },
              columns: ['time', 'value'],
              values: [
                [20500, 100],
                [10500, 90],
              ],
            },
            { name: 'network_receive_bytes_total', tags: { process_type: 'worker', instance: 'c' }, columns: ['time', 'value'], values: [[20000, 7]] },
            { name: 'not_ours', tags: { process_type: 'web', instance: 'a' }, columns: ['time', 'value'], values: [[20000, 7]] },
          ],
        },
      ],
      (n) => METRIC_KIND.get(n),
    );
    expect(snap).toEqual({
      web: {
        a: { cpu_usage_seconds_total: { time: 20, value: 1 }, memory_rss: { time: 20.5, value: 100 } },
        b: { cpu_usage_seconds_total: { time: 20, value: 50, rate: 2 } },
      },
      worker: { c: { network_receive_bytes_total: { time: 20, value: 7 } } },
    });
  });
});
