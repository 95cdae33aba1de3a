/** lib/influx against the real InfluxDB 1.6: line-protocol escaping read back exactly, bound parameters that
 * cannot change a statement, multi-statement answers, statement errors. */
import { closeCore, Core } from '../../lib/core';
import { InfluxError } from '../../lib/influx';
import { createTestCore, uniqueName } from '../helpers/env';

let core: Core;

beforeAll(() => {
  core = createTestCore();
});

afterAll(async () => {
  await closeCore(core);
});

const T = 1704067200; // 2024-01-01T00:00:00Z

describe('InfluxDB v1 client against InfluxDB', () => {
  it('round-trips hostile measurement names, tag keys/values, field keys and string fields exactly', async () => {
    const measurement = `${uniqueName('esc')} m,x=y "q"`;
    const tagValue = `v a=,l 'single' "double" ; back\\slash`;
    const note = `line1\nline2 "quoted" back\\slash, comma=equals`;
    await core.influx.writePoints([
      { measurement, tags: { 't k=,': tagValue, app: 'a' }, fields: { value: 1.5, 'f k=,': note, count: 7n, ok: true }, timestamp: T },
    ]);
    const [r] = await core.influx.query(`SELECT * FROM "${measurement.replace(/"/g, '\\"')}"`);
    const s = r.series![0];
    expect(s.name).toBe(measurement);
    const row = Object.fromEntries(s.columns.map((c, i) => [c, s.values[0][i]]));
    expect(row).toEqual({ time: T, app: 'a', 't k=,': tagValue, value: 1.5, 'f k=,': note, count: 7, ok: true });
  });

  it('a tag value that tries to smuggle a second point stays one tag value; a newline is refused before sending', async () => {
    const app = uniqueName('smuggle');
    const hostile = `${app},instance=x value=999 ${T}`;
    await core.influx.writePoints([{ measurement: 'influx_spec', tags: { app: hostile }, fields: { value: 1 }, timestamp: T }]);
    const [byHostile] = await core.influx.query('SELECT value FROM influx_spec WHERE app = $app', { app: hostile });
    expect(byHostile.series?.[0].values).toEqual([[T, 1]]);
    const [byPrefix] = await core.influx.query('SELECT value FROM influx_spec WHERE app = $app', { app });
    expect(byPrefix.series).toBeUndefined();
    const writes = core.influx.stats().writes;
    const withNewline = `${app} value=1\nmemory_rss,app=${app} value=999`;
    await expect(core.influx.writePoints([{ measurement: 'influx_spec', tags: { app: withNewline }, fields: { value: 1 }, timestamp: T }])).rejects.toThrow(
      /contains a newline/,
    );
    expect(core.influx.stats().writes).toBe(writes);
  });

  it('bound parameters are values, never syntax', async () => {
    const app = uniqueName('bind');
    await core.influx.writePoints([{ measurement: 'influx_spec', tags: { app }, fields: { value: 2 }, timestamp: T }]);
    for (const attempt of [`${app}' OR app =~ /.*/ OR app='`, `x"; DROP MEASUREMENT influx_spec; --`, `'\n; SHOW DATABASES`]) {
      const [r] = await core.influx.query('SELECT value FROM influx_spec WHERE app = $app', { app: attempt });
      expect(r.series).toBeUndefined();
    }
    const [still] = await core.influx.query('SELECT value FROM influx_spec WHERE app = $app AND time >= $from', {
      app,
      from: new Date((T - 1) * 1000).toISOString(),
    });
    expect(still.series?.[0].values).toEqual([[T, 2]]);
  });

  it('answers several statements in one request, in order; a failing statement rejects', async () => {
    const results = await core.influx.query('SHOW DATABASES; SELECT value FROM influx_spec WHERE app = $app', { app: 'nobody' });
    expect(results.map((r) => r.statement_id)).toEqual([0, 1]);
    expect(results[0].series?.[0].values.flat()).toContain(core.influx.db);
    await expect(core.influx.query('SHOW DATABASES; SELECT value FROM "nodb_spec"."autogen"."m"')).rejects.toThrow(
      new InfluxError('InfluxDB statement 1 failed: database not found: nodb_spec'),
    );
    const unbound = await core.influx.query('SELECT value FROM influx_spec WHERE app = $unbound').catch((e) => e);
    expect(unbound).toBeInstanceOf(InfluxError);
    expect(unbound.message).toMatch(/missing parameter: unbound/);
  });

  it('rejects a write InfluxDB cannot parse with a clear error, and counts requests', async () => {
    const before = core.influx.stats();
    await expect(core.influx.write('no fields here')).rejects.toThrow(/InfluxDB write failed \(400\)/);
    expect(core.influx.stats().writes).toBe(before.writes + 1);
  });
});
