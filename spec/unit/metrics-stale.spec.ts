/**
 * Stale metrics while InfluxDB is away (issue 13): a cached answer for a range that ended before the
 * outage is served past its TTL, for at most staleSeconds, marked stale; anything else is the 503.
 * InfluxDB is a stand-in here (answers or Unavailable); the real one is in spec/integration/outages.spec.ts.
 */
import { Registry } from 'prom-client';
import { InfluxError, type Influx } from '../../lib/influx';
import { Unavailable } from '../../lib/errors';
import { METRICS_DEFAULTS } from '../../lib/metrics';
import { createMetricsService, MetricsService } from '../../lib/metrics/service';
import type { MetricsRange } from '../../lib/metrics/params';

const HOUR = 3600;
const T0 = Date.parse('2026-03-01T12:00:00Z');

function setup(staleSeconds = HOUR) {
  jest.useFakeTimers({ now: T0 });
  const clock = { up: true, downSince: undefined as Date | undefined, queries: 0, fail: undefined as Error | undefined };
  const influx = {
    db: 'test',
    async query() {
      clock.queries++;
      if (clock.fail) throw clock.fail;
      if (!clock.up) throw new Unavailable('InfluxDB', 'connect ECONNREFUSED 127.0.0.1:8086');
      return [
        {
          statement_id: 0,
          series: [
            { name: 'memory_rss', tags: { process_type: 'web', instance: 'web.1' }, columns: ['time', 'value'], values: [[(T0 / 1000 - 2 * HOUR) * 1000, 42]] },
          ],
        },
      ];
    },
  } as unknown as Influx;
  const service: MetricsService = createMetricsService(influx, new Registry(), {
    ...METRICS_DEFAULTS,
    staleSeconds,
    now: () => Date.now(),
    influxDownSince: () => clock.downSince,
  });
  const down = () => {
    clock.up = false;
    clock.downSince = new Date(Date.now());
  };
  return { clock, service, down };
}

/** The service's clock and node-cache's TTLs move together (both read Date.now). */
function advance(seconds: number): void {
  jest.setSystemTime(Date.now() + seconds * 1000);
}

/** Two hours, ended an hour before T0: every bucket closed (TTL closedTtlSeconds, 1 h). */
const closedRange: MetricsRange = { resolution: 600, from: T0 / 1000 - 3 * HOUR, to: T0 / 1000 - HOUR, stat: 'mean' };
/** The last hour up to T0: its last bucket is open (TTL openTtlSeconds, 10 s). */
const openRange: MetricsRange = { resolution: 600, from: T0 / 1000 - HOUR, to: T0 / 1000, stat: 'mean' };

describe('metrics while InfluxDB is down', () => {
  let ctx: ReturnType<typeof setup>;
  afterEach(() => {
    ctx.service.close();
    jest.useRealTimers();
  });

  it('a cached answer for a range that ended before the outage is served past its TTL, marked stale, same body and ETag', async () => {
    ctx = setup();
    const fresh = await ctx.service.series('a-s', closedRange);
    expect(fresh.stale).toBeUndefined();
    advance(HOUR + 60); // past the 1 h TTL
    ctx.down();
    const stale = await ctx.service.series('a-s', closedRange);
    expect(stale.stale).toBe(true);
    expect(stale.json.equals(fresh.json)).toBe(true);
    expect(stale.etag).toBe(fresh.etag);
    // InfluxDB was asked (and failed) before the stale answer was used.
    expect(ctx.clock.queries).toBeGreaterThan(0);
  });

  it('within its TTL the cached answer is simply fresh, outage or not', async () => {
    ctx = setup();
    await ctx.service.series('a-s', closedRange);
    ctx.down();
    advance(60);
    expect((await ctx.service.series('a-s', closedRange)).stale).toBeUndefined();
  });

  it('uncached: 503 as before', async () => {
    ctx = setup();
    ctx.down();
    await expect(ctx.service.series('a-s', closedRange)).rejects.toMatchObject({ status: 503, dependency: 'InfluxDB' });
  });

  it('a range reaching into the outage is a 503 even when cached (its newest buckets would be missing)', async () => {
    ctx = setup();
    await ctx.service.series('a-s', openRange);
    advance(30); // past the open answer's 10 s TTL; the outage began after the range's end
    ctx.down();
    const reaching: MetricsRange = { ...openRange };
    ctx.clock.downSince = new Date(openRange.to * 1000 - 60_000); // InfluxDB went away before the range ended
    await expect(ctx.service.series('a-s', reaching)).rejects.toMatchObject({ status: 503 });
  });

  it('bounded: more than staleSeconds past its TTL the answer is gone, 503', async () => {
    ctx = setup(600);
    await ctx.service.series('a-s', closedRange);
    ctx.down();
    advance(HOUR + 601);
    await expect(ctx.service.series('a-s', closedRange)).rejects.toMatchObject({ status: 503 });
  });

  it('staleSeconds 0: never stale', async () => {
    ctx = setup(0);
    await ctx.service.series('a-s', closedRange);
    advance(HOUR + 1);
    ctx.down();
    await expect(ctx.service.series('a-s', closedRange)).rejects.toMatchObject({ status: 503 });
  });

  it('InfluxDB back: the next request reads it again and is fresh', async () => {
    ctx = setup();
    await ctx.service.series('a-s', closedRange);
    advance(HOUR + 60);
    ctx.down();
    expect((await ctx.service.series('a-s', closedRange)).stale).toBe(true);
    ctx.clock.up = true;
    ctx.clock.downSince = undefined;
    const before = ctx.clock.queries;
    expect((await ctx.service.series('a-s', closedRange)).stale).toBeUndefined();
    expect(ctx.clock.queries).toBeGreaterThan(before);
  });

  it('other failures (InfluxDB answering that the query is wrong) are not hidden behind a stale answer', async () => {
    ctx = setup();
    await ctx.service.series('a-s', closedRange);
    advance(HOUR + 60);
    ctx.clock.downSince = new Date(Date.now());
    ctx.clock.fail = new InfluxError('error parsing query', 400);
    await expect(ctx.service.series('a-s', closedRange)).rejects.toBeInstanceOf(InfluxError);
  });
});
