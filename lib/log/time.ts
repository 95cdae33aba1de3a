/**
 * Strict RFC3339 parsing. `Date.parse` is not used on outside input because V8
 * accepts almost anything (`Date.parse('garbage 2016')` is a valid date).
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1];
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms));
  // Date.UTC maps years 0..99 to 1900..1999.
  date.setUTCFullYear(y);
  return date.getTime();
}

function validDate(y: number, mo: number, d: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

/**
 * RFC3339 §5.6 date-time (`2016-08-24T17:03:20.080151664Z`, `...+02:00`); any number of
 * fractional digits, truncated to milliseconds. A leap second (`:60`) is read as `:59.999`.
 * Returns null for anything else.
 */
export function parseRfc3339(value: string): Date | null {
  const m = DATE_TIME.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  let s = Number(m[6]);
  let ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return null;
  if (s === 60) {
    s = 59;
    ms = 999;
  }
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== 'Z' && zone !== 'z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return new Date(utc(y, mo, d, h, mi, s, ms) - offsetMinutes * 60_000);
}

/** RFC3339 date-time, or an ISO 8601 calendar date (`2018-03-24`, read as UTC midnight). */
export function parseRfc3339OrDate(value: string): Date | null {
  const full = parseRfc3339(value);
  if (full) return full;
  const m = DATE_ONLY.exec(value);
  if (!m) return null;
  const [y, mo, d] = [m[1], m[2], m[3]].map(Number);
  return validDate(y, mo, d) ? new Date(utc(y, mo, d, 0, 0, 0, 0)) : null;
}
