/**
 * Strict RFC3339 parsing. `Date.parse` is not used on outside input because V8
 * accepts almost anything (`Date.parse('garbage 2016')` is a valid date).
 */

/**
 * parseRfc3339 accepts exactly
 * `/^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/`
 * (with the range checks below), scanned by character codes rather than with that regex.
 */
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1];
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  return daysFromCivil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date, in integer arithmetic (H. Hinnant's
 * days_from_civil): what Date.UTC computes, without its call or its two-digit-year quirk.
 */
function daysFromCivil(y: number, mo: number, d: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = mo > 2 ? mo - 3 : mo + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
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
  // By character codes (the grammar above; spec/unit/log-time.spec.ts checks it against the
  // regex): no regex, substrings or arrays, as this runs once per log line on every hot path.
  const len = value.length;
  if (len < 20) return null;
  const y = digits4(value, 0);
  const mo = digits2(value, 5);
  const d = digits2(value, 8);
  const h = digits2(value, 11);
  const mi = digits2(value, 14);
  let s = digits2(value, 17);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return null;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) {
    return null; // '-' '-' ':' ':'
  }
  const sep = value.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return null; // 'T' 't' ' '
  let i = 19;
  let ms = 0;
  if (value.charCodeAt(i) === 46) {
    // '.' then one or more digits; the first three are the milliseconds.
    i++;
    const first = i;
    let c = value.charCodeAt(i);
    while (c >= 48 && c <= 57) {
      const n = i - first;
      if (n < 3) ms += (c - 48) * (n === 0 ? 100 : n === 1 ? 10 : 1);
      c = value.charCodeAt(++i);
    }
    if (i === first) return null;
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(i);
  if (zone === 90 || zone === 122) {
    // 'Z' 'z'
    if (i + 1 !== len) return null;
  } else if (zone === 43 || zone === 45) {
    // '+' '-' then HH:MM, the end
    if (i + 6 !== len || value.charCodeAt(i + 3) !== 58) return null;
    const oh = digits2(value, i + 1);
    const om = digits2(value, i + 4);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return null;
    offsetMinutes = (zone === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return null;
  }
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return null;
  if (s === 60) {
    s = 59;
    ms = 999;
  }
  return new Date(utc(y, mo, d, h, mi, s, ms) - offsetMinutes * 60_000);
}

/** The two ASCII digits at `at` as a number, else -1. */
function digits2(v: string, at: number): number {
  const a = v.charCodeAt(at) - 48;
  const b = v.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function digits4(v: string, at: number): number {
  const hi = digits2(v, at);
  const lo = digits2(v, at + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
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
