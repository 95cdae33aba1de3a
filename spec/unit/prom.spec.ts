/** lib/prom's get-or-create helpers, and the series the tail hub and the drain workers share through them. */
import { Registry } from 'prom-client';
import { counter, gauge, histogram } from '../../lib/prom';
import { createTailMetrics } from '../../lib/tail/metrics';
import { drainMetrics } from '../../drains/metrics';
import { malformedBy } from '../../lib/kafka/source/metrics';

describe('counter / gauge / histogram', () => {
  it('create a metric once per registry and hand the same one back by name', () => {
    const registry = new Registry();
    const a = counter(registry, { name: 'x_total', help: 'x', labelNames: ['k'] });
    const b = counter(registry, { name: 'x_total', help: 'x', labelNames: ['k'] });
    expect(b).toBe(a);
    expect(gauge(registry, { name: 'g', help: 'g' })).toBe(gauge(registry, { name: 'g', help: 'g' }));
    expect(histogram(registry, { name: 'h', help: 'h' })).toBe(histogram(registry, { name: 'h', help: 'h' }));
    expect(counter(new Registry(), { name: 'x_total', help: 'x' })).not.toBe(a);
  });

  it('refuse a name already taken by another kind of metric', () => {
    const registry = new Registry();
    gauge(registry, { name: 'taken', help: 't' });
    expect(() => counter(registry, { name: 'taken', help: 't' })).toThrow(/taken is already registered as a Gauge/);
  });
});

describe('the log source series shared by the tail hub and the drain workers', () => {
  it('count lines consumed and malformed messages into one series each, by consumer', async () => {
    const registry = new Registry();
    const tail = createTailMetrics(registry);
    const drains = drainMetrics(registry);
    tail.linesConsumed.inc({ consumer: 'tail' }, 3);
    drains.lines.inc(5);
    malformedBy(tail.malformed, 'tail').inc({ kind: 'bad_json' });
    drains.malformed.inc({ kind: 'bad_json' }, 2);
    drains.malformed.inc({ kind: 'empty' });

    const text = await registry.metrics();
    expect(text).toContain('logway_lines_consumed_total{consumer="tail"} 3');
    expect(text).toContain('logway_lines_consumed_total{consumer="drains"} 5');
    expect(text).toContain('logway_log_messages_malformed_total{consumer="tail",kind="bad_json"} 1');
    expect(text).toContain('logway_log_messages_malformed_total{consumer="drains",kind="bad_json"} 2');
    expect(text).toContain('logway_log_messages_malformed_total{consumer="drains",kind="empty"} 1');
    // The drains' own names for these went with the merge.
    expect(text).not.toMatch(/logway_drain_lines_consumed_total|logway_drain_parse_errors_total/);
    expect(text.match(/^# TYPE logway_lines_consumed_total /gm)).toHaveLength(1);
  });
});
