import { instancesFor, parseDuration, writeSamples } from '../../scripts/sample-metrics';
import type { Influx } from '../../lib/influx';
import { COUNTERS, GAUGES, METRICS } from '../../lib/metrics/catalog';

/** Collects what writeSamples would send: parsed back from the line protocol it produces. */
function recorder() {
  const lines: string[] = [];
  const influx = {
    async write(text: string) {
      lines.push(...text.split('\n'));
    },
  } as unknown as Influx;
  const parsed = () =>
    lines.map((l) => {
      const [key, field, t] = l.split(' ');
      const [measurement, ...tags] = key.split(',');
      return { measurement, tags: Object.fromEntries(tags.map((kv) => kv.split('='))), value: Number(field.replace(/^value=/, '')), t: Number(t) };
    });
  return { influx, lines, parsed };
}

describe('sample metrics writer', () => {
  const T = 1720000000;

  it('writes every metric for every instance of both process types at each interval, in the API schema', async () => {
    const r = recorder();
    const instances = instancesFor('demo-default', 3);
    expect(instances.map((i) => i.processType)).toEqual(['web', 'web', 'web', 'worker', 'worker', 'worker']);
    expect(new Set(instances.map((i) => i.name)).size).toBe(6);
    for (const i of instances) expect(i.name).toMatch(new RegExp(`^${i.processType}\\.[0-9a-f]{9}-[0-9a-z]{5}$`));
    const n = await writeSamples(r.influx, { appKey: 'demo-default', instances, from: T, to: T + 60, interval: 10, batch: 7 });
    expect(n).toBe(6 * 6 * 13);
    const pts = r.parsed();
    expect(pts).toHaveLength(n);
    expect(new Set(pts.map((p) => p.measurement))).toEqual(new Set(METRICS.map((m) => m.name)));
    expect(new Set(pts.map((p) => p.t))).toEqual(new Set([T, T + 10, T + 20, T + 30, T + 40, T + 50]));
    for (const p of pts) {
      expect(Object.keys(p.tags).sort()).toEqual(['app', 'instance', 'process_type']);
      expect(p.tags.app).toBe('demo-default');
      expect(Number.isFinite(p.value)).toBe(true);
    }
  });

  it('counters only grow, gauges wander but stay positive, and a rerun writes the same values', async () => {
    const a = recorder();
    const b = recorder();
    const instances = instancesFor('demo-default', 2);
    await writeSamples(a.influx, { appKey: 'demo-default', instances, from: T, to: T + 2 * 86400, interval: 600 });
    await writeSamples(b.influx, { appKey: 'demo-default', instances, from: T, to: T + 2 * 86400, interval: 600 });
    expect(b.lines).toEqual(a.lines);
    const bySeries = new Map<string, number[]>();
    for (const p of a.parsed()) {
      const k = `${p.measurement}|${p.tags.instance}`;
      bySeries.set(k, [...(bySeries.get(k) ?? []), p.value]);
    }
    for (const [k, values] of bySeries) {
      const [measurement] = k.split('|');
      if (COUNTERS.includes(measurement)) {
        for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
        if (!measurement.includes('errors')) expect(values[values.length - 1]).toBeGreaterThan(values[0]);
      } else {
        expect(GAUGES).toContain(measurement);
        expect(Math.min(...values)).toBeGreaterThan(0);
        expect(new Set(values).size).toBeGreaterThan(values.length / 2); // it wanders
      }
    }
  });

  it('parses durations', () => {
    expect(parseDuration('10s')).toBe(10);
    expect(parseDuration('7d')).toBe(604800);
    expect(() => parseDuration('7 days')).toThrow(/not a duration/);
  });
});
