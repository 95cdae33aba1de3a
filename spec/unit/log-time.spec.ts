import { parseRfc3339, parseRfc3339OrDate } from '../../lib/log/time';

/** The regex implementation parseRfc3339 replaced (by a char-code scan): the reference. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;
function reference(value: string): number | null {
  const m = DATE_TIME.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  let s = Number(m[6]);
  let ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = mo === 2 && leap ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= dim) || h > 23 || mi > 59 || s > 60) return null;
  if (s === 60) {
    s = 59;
    ms = 999;
  }
  let off = 0;
  const zone = m[8];
  if (zone !== 'Z' && zone !== 'z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    off = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms));
  date.setUTCFullYear(y);
  return date.getTime() - off * 60_000;
}

const ms = (v: string) => parseRfc3339(v)?.getTime() ?? null;

describe('parseRfc3339', () => {
  it('reads nanosecond fractions (truncated to ms), offsets, leap seconds, t/space separators', () => {
    expect(parseRfc3339('2016-08-24T17:03:20.080151664Z')?.toISOString()).toBe('2016-08-24T17:03:20.080Z');
    expect(parseRfc3339('2016-08-24T17:03:20.9Z')?.toISOString()).toBe('2016-08-24T17:03:20.900Z');
    expect(parseRfc3339('2016-08-24T17:03:20.08Z')?.toISOString()).toBe('2016-08-24T17:03:20.080Z');
    expect(parseRfc3339('2016-08-24T17:03:20Z')?.toISOString()).toBe('2016-08-24T17:03:20.000Z');
    expect(parseRfc3339('2018-03-24T03:07:20.5+02:00')?.toISOString()).toBe('2018-03-24T01:07:20.500Z');
    expect(parseRfc3339('2018-03-23t23:37:20.123456-01:30')?.toISOString()).toBe('2018-03-24T01:07:20.123Z');
    expect(parseRfc3339('2018-03-24 01:07:20z')?.toISOString()).toBe('2018-03-24T01:07:20.000Z');
    expect(parseRfc3339('2016-12-31T23:59:60Z')?.toISOString()).toBe('2016-12-31T23:59:59.999Z');
    expect(parseRfc3339('2016-02-29T00:00:00Z')?.toISOString()).toBe('2016-02-29T00:00:00.000Z');
    expect(parseRfc3339('0050-01-02T03:04:05Z')?.toISOString()).toBe('0050-01-02T03:04:05.000Z');
    expect(parseRfc3339('0099-12-31T23:59:59.999Z')?.getUTCFullYear()).toBe(99);
    expect(parseRfc3339('0000-01-01T00:00:00+00:01')?.toISOString()).toBe('-000001-12-31T23:59:00.000Z');
  });

  it.each([
    '',
    'yesterday 2016',
    '2016-08-24',
    '2016-08-24T17:03:20',
    '2016-08-24T17:03:20.Z',
    '2016-08-24T17:03:20.1',
    '2016-08-24T17:03:20Zx',
    '2016-08-24T17:03:20Z\n',
    ' 2016-08-24T17:03:20Z',
    '2016-08-24X17:03:20Z',
    '2016-08-24T17:03:20+0200',
    '2016-08-24T17:03:20+02:00:00',
    '2016-08-24T17:03:20+2:00',
    '2016-08-24T17:03:20+24:00',
    '2016-08-24T17:03:20-02:60',
    '2016-02-30T00:00:00Z',
    '2015-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2016-13-01T00:00:00Z',
    '2016-00-01T00:00:00Z',
    '2016-01-00T00:00:00Z',
    '2016-01-01T24:00:00Z',
    '2016-01-01T00:60:00Z',
    '2016-01-01T00:00:61Z',
    '2016-01-01T00:00:0aZ',
    '２016-01-01T00:00:00Z',
    '2016/01/01T00:00:00Z',
    '20161-01-01T00:00:00Z',
  ])('rejects %j', (v) => {
    expect(parseRfc3339(v)).toBeNull();
    expect(reference(v)).toBeNull();
  });

  it('agrees with the regex implementation on generated inputs', () => {
    const pieces = {
      y: ['2016', '2000', '1900', '0001', '0099', '0100', '9999', '201a'],
      mo: ['01', '02', '12', '13', '00'],
      d: ['01', '28', '29', '30', '31', '32', '00'],
      sep: ['T', 't', ' ', '_'],
      h: ['00', '23', '24'],
      mi: ['00', '59', '60'],
      s: ['00', '59', '60', '61'],
      frac: ['', '.', '.0', '.5', '.12', '.123', '.1234', '.080151664', '.9999999999999', '.1a'],
      zone: ['Z', 'z', '+00:00', '-00:00', '+02:00', '-01:30', '+23:59', '+24:00', '-00:60', '+0200', 'ZZ', '', '+02:00 ', 'UTC'],
    };
    let n = 0;
    let seed = 7;
    const pick = <T>(xs: T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return xs[seed % xs.length];
    };
    for (let k = 0; k < 40_000; k++) {
      const v = `${pick(pieces.y)}-${pick(pieces.mo)}-${pick(pieces.d)}${pick(pieces.sep)}${pick(pieces.h)}:${pick(pieces.mi)}:${pick(pieces.s)}${pick(pieces.frac)}${pick(pieces.zone)}`;
      const want = reference(v);
      expect([v, ms(v)]).toEqual([v, want]);
      if (want !== null) n++;
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('parseRfc3339OrDate also takes a calendar date', () => {
    expect(parseRfc3339OrDate('2018-03-24')?.toISOString()).toBe('2018-03-24T00:00:00.000Z');
    expect(parseRfc3339OrDate('2018-03-24T01:07:20.123Z')?.toISOString()).toBe('2018-03-24T01:07:20.123Z');
    expect(parseRfc3339OrDate('2018-02-30')).toBeNull();
  });
});

describe('parseRfc3339 date arithmetic', () => {
  it('agrees with Date for every day of years around the edges', () => {
    for (const y of [0, 1, 4, 99, 100, 1600, 1899, 1900, 1969, 1970, 1999, 2000, 2016, 2100, 2400, 9999]) {
      for (let t = Date.UTC(2001, 0, 1); t < Date.UTC(2002, 0, 1); t += 86_400_000) {
        const date = new Date(t);
        date.setUTCFullYear(y);
        if (date.getUTCFullYear() !== y) continue;
        const iso = date
          .toISOString()
          .replace(/^\+0*(\d{4})/, '$1')
          .replace('.000Z', '.5Z');
        if (y < 10000 && !iso.startsWith('-')) expect([iso, parseRfc3339(iso)?.getTime()]).toEqual([iso, date.getTime() + 500]);
      }
    }
  });
});
