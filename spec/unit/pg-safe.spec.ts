/** lib/db's PostgreSQL edge: text and jsonb made storable, and which errors mean "this row" rather than "this connection". */
import fc from 'fast-check';
import { isRowRefusal, pgSafeJson, pgSafeText, writeQuarantining } from '../../lib/db';

/** What PostgreSQL text refuses (NUL) and what jsonb refuses once JSON.stringify escapes it (NUL, lone surrogates). */
const PG_REFUSES = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const JSONB_REFUSES = /\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i;

describe('pgSafeText', () => {
  it('turns NUL into U+FFFD', () => {
    expect(pgSafeText('Bad\u0000Thing\u0000')).toBe('Bad\uFFFDThing\uFFFD');
  });

  it('turns a lone high or low surrogate into U+FFFD and keeps pairs', () => {
    expect(pgSafeText('a\uD83Dz')).toBe('a\uFFFDz');
    expect(pgSafeText('a\uDE00z')).toBe('a\uFFFDz');
    expect(pgSafeText('\uD83D\uD83D\uDE00')).toBe('\uFFFD\uD83D\uDE00');
    expect(pgSafeText('ok 😀 é')).toBe('ok 😀 é');
  });

  it('returns clean text as it is', () => {
    const s = 'GET /health 200';
    expect(pgSafeText(s)).toBe(s);
  });

  it('never leaves anything PostgreSQL refuses, and changes nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = pgSafeText(s);
        expect(PG_REFUSES.test(out)).toBe(false);
        expect(out.length).toBe(s.length);
        for (let i = 0; i < s.length; i++) if (out[i] !== s[i]) expect(out[i]).toBe('\uFFFD');
      }),
    );
  });
});

describe('pgSafeJson', () => {
  it('cleans every string, keys included, and keeps the rest', () => {
    const out = JSON.parse(pgSafeJson({ message: 'a\u0000b', 'k\u0000': ['\uDC00', 3, null, true], time: new Date(0) }));
    expect(out).toEqual({ message: 'a\uFFFDb', 'k\uFFFD': ['\uFFFD', 3, null, true], time: '1970-01-01T00:00:00.000Z' });
  });

  it('never writes an escape jsonb refuses', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (v, s) => {
        expect(JSONB_REFUSES.test(pgSafeJson({ v, s, [s]: s }))).toBe(false);
      }),
    );
  });
});

describe('isRowRefusal', () => {
  it.each(['22021', '22P05', '22P02', '23503', '23505', '54000'])('%s is the row', (code) => {
    expect(isRowRefusal(Object.assign(new Error('x'), { code }))).toBe(true);
  });
  it.each(['08006', '57P01', '53300', 'ECONNREFUSED', '42601', undefined])('%s is not', (code) => {
    expect(isRowRefusal(Object.assign(new Error('x'), { code }))).toBe(false);
  });
  it('is false for a non-error', () => {
    expect(isRowRefusal(null)).toBe(false);
    expect(isRowRefusal('22021')).toBe(false);
  });
});

describe('writeQuarantining', () => {
  const refusal = () => Object.assign(new Error('invalid byte sequence'), { code: '22021' });

  it('writes a clean batch once', async () => {
    const calls: number[][] = [];
    const refused = await writeQuarantining([1, 2, 3], async (rows) => void calls.push(rows));
    expect(refused).toEqual([]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('retries a refused batch row by row and returns only the rows refused alone', async () => {
    const written: number[] = [];
    const refused = await writeQuarantining([1, 2, 3, 4], async (rows) => {
      if (rows.includes(2) || rows.includes(4)) throw refusal();
      written.push(...rows);
    });
    expect(refused.map((r) => r.row)).toEqual([2, 4]);
    expect(refused[0].err.code).toBe('22021');
    expect(written).toEqual([1, 3]);
  });

  it('throws a connection error (the caller retries the batch)', async () => {
    const down = Object.assign(new Error('terminated'), { code: '57P01' });
    await expect(writeQuarantining([1, 2], async () => Promise.reject(down))).rejects.toBe(down);
    let n = 0;
    const flaky = async (rows: number[]) => {
      n++;
      if (n === 1) throw refusal();
      if (rows[0] === 2) throw down;
    };
    await expect(writeQuarantining([1, 2], flaky)).rejects.toBe(down);
  });
});
