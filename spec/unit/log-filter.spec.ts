import type { LogLine } from '../../lib/log/line';
import { logLine } from '../helpers/log-line';
import { compileFilter, parseSince } from '../../lib/log/filter';
import { compileLogRegex } from '../../lib/log/regex';

const re = (pattern: string) => compileLogRegex(pattern, 256);

const NOW = new Date('2018-03-24T12:00:00.000Z');

const line = (overrides: Partial<LogLine>): LogLine =>
  logLine({
    time: new Date('2018-03-24T11:59:00.000Z'),
    dyno: 'web.1562910588-cg82f',
    message: 'GET /health 200',
    ...overrides,
  });

const web = line({});
const worker = line({ dyno: 'worker.123-abc', processType: 'worker', message: 'job done' });
const webhook = line({ dyno: 'webhook.9-z', processType: 'webhook' });
const router = line({ source: 'akkeris/router', dyno: '', processType: '', message: 'status=500 host=api-space path=/' });
const build = line({ source: 'akkeris/build', dyno: '', processType: '', message: 'Step 1/7' });
const all = [web, worker, webhook, router, build];

function kept(opts: Parameters<typeof compileFilter>[0]): LogLine[] {
  return all.filter(compileFilter(opts));
}

describe('parseSince', () => {
  it('relative durations count back from now', () => {
    expect(parseSince('30s', NOW)?.toISOString()).toBe('2018-03-24T11:59:30.000Z');
    expect(parseSince('10m', NOW)?.toISOString()).toBe('2018-03-24T11:50:00.000Z');
    expect(parseSince('2h', NOW)?.toISOString()).toBe('2018-03-24T10:00:00.000Z');
    expect(parseSince('1d', NOW)?.toISOString()).toBe('2018-03-23T12:00:00.000Z');
    expect(parseSince('0s', NOW)?.toISOString()).toBe(NOW.toISOString());
  });

  it('RFC3339 and ISO 8601 dates', () => {
    expect(parseSince('2018-03-24T01:07:20Z', NOW)?.toISOString()).toBe('2018-03-24T01:07:20.000Z');
    expect(parseSince('2018-03-24T03:07:20.123456+02:00', NOW)?.toISOString()).toBe('2018-03-24T01:07:20.123Z');
    expect(parseSince('2018-03-24', NOW)?.toISOString()).toBe('2018-03-24T00:00:00.000Z');
    expect(parseSince('2016-02-29T00:00:00Z', NOW)?.toISOString()).toBe('2016-02-29T00:00:00.000Z');
  });

  it('anything else is null', () => {
    for (const bad of [
      '',
      '10',
      '10x',
      '-5m',
      '1.5h',
      'm',
      'yesterday',
      'Sat Mar 24 2018',
      '2018-13-01',
      '2018-02-30T00:00:00Z',
      '2018-03-24T25:00:00Z',
      '2018-03-24T01:07:20',
    ]) {
      expect(parseSince(bad, NOW)).toBeNull();
    }
  });
});

describe('compileFilter', () => {
  it('no filters keeps everything', () => {
    expect(kept({})).toEqual(all);
  });

  it('dyno matches exactly or as a process-type prefix', () => {
    expect(kept({ dyno: 'web.1562910588-cg82f' })).toEqual([web]);
    expect(kept({ dyno: 'web' })).toEqual([web]);
    expect(kept({ dyno: 'worker' })).toEqual([worker]);
    expect(kept({ dyno: 'web.1' })).toEqual([]);
  });

  it('dyno router finds router lines (platform lines go by their short source)', () => {
    expect(kept({ dyno: 'router' })).toEqual([router]);
  });

  it('type matches the process type exactly', () => {
    expect(kept({ type: 'web' })).toEqual([web]);
    expect(kept({ type: 'webhook' })).toEqual([webhook]);
  });

  it('source: app, full platform source, short form, or akkeris for all platform lines', () => {
    expect(kept({ source: 'app' })).toEqual([web, worker, webhook]);
    expect(kept({ source: 'akkeris/router' })).toEqual([router]);
    expect(kept({ source: 'router' })).toEqual([router]);
    expect(kept({ source: 'build' })).toEqual([build]);
    expect(kept({ source: 'akkeris' })).toEqual([router, build]);
  });

  it('since keeps lines at or after the time', () => {
    const at = line({ time: new Date('2018-03-24T11:00:00.000Z') });
    const before = line({ time: new Date('2018-03-24T10:59:59.999Z') });
    const f = compileFilter({ since: new Date('2018-03-24T11:00:00.000Z') });
    expect([at, before].filter(f)).toEqual([at]);
  });

  it('regex tests the message, statelessly (the same lines on every pass)', () => {
    const f = compileFilter({ regex: re('status=5\\d\\d') });
    expect(all.filter(f)).toEqual([router]);
    expect(all.filter(f)).toEqual([router]);
    expect(kept({ regex: re('app\\[') })).toEqual([]);
  });

  it('filters are ANDed', () => {
    expect(kept({ source: 'app', dyno: 'worker', regex: re('done') })).toEqual([worker]);
    expect(kept({ source: 'router', dyno: 'web' })).toEqual([]);
  });
});
