import { encodeCursor, decodeCursor, tpKey, parseTpKey } from '../../lib/tail/positions';

describe('resume cursor', () => {
  it('encodes every partition position and decodes it back', () => {
    const p = new Map([
      [tpKey('space-a.b_c', 0), 1042],
      [tpKey('alamoweblogs', 2), 0],
    ]);
    const text = encodeCursor(p);
    expect(text).toBe('space-a.b_c:0:1042,alamoweblogs:2:0');
    expect(decodeCursor(text)).toEqual(p);
    expect(parseTpKey('a:b:3')).toEqual({ topic: 'a:b', partition: 3 });
  });

  it('rejects anything it did not write', () => {
    for (const bad of [undefined, '', 'abc', 'a:1', 'a:1:x', 'a:-1:2', 'a b:1:2', 'a:1:2,', 'a:1:99999999999999999']) {
      expect([bad, decodeCursor(bad)]).toEqual([bad, null]);
    }
  });
});
