import { siteKey } from '../../lib/sites';

describe('siteKey', () => {
  it.each(['www.example.com', 'WWW.Example.COM', 'a', 'my-site.example.io', 'x1.y2', `${'a'.repeat(63)}.com`])('accepts %s', (site) => {
    expect(siteKey(site)).toBe(site.toLowerCase());
  });

  it.each(['a..b', 'abc-', '-abc', 'a_b.com', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}ab`, '', 'a b'])('404s %j', (site) => {
    expect(() => siteKey(site)).toThrow(`The specified site ${site} does not exist.`);
  });
});
