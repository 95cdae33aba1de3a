/** Property tests (fast-check): the drain url parser and the destination policy never throw anything but their typed errors. */
import fc from 'fast-check';
import { parseDrainUrl, requireUrlParam } from '../../drains/url';
import { classifyAddress, DestinationPolicy, parseAddress } from '../../drains/destination';
import { BadRequest, Unprocessable } from '../../lib/errors';

const typedOnly = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Unprocessable) && !(e instanceof BadRequest)) throw e;
  }
};

const scheme = fc.constantFrom('syslog', 'syslog+tcp', 'syslog+tls', 'syslog+udp', 'http', 'https', 'HTTPS', 'ftp', 'syslog+', '');
const host = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6().map((a) => `[${a}]`),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('localhost', 'localhost.', '0x7f.1', '2130706433', '017700000001', '[::ffff:127.0.0.1]', '[::1', '[]', '%00', '..'),
);
const port = fc.oneof(
  fc.constant(''),
  fc.integer({ min: -5, max: 70000 }).map((n) => `:${n}`),
  fc.string({ maxLength: 8 }).map((s) => `:${s}`),
);
const rest = fc.oneof(
  fc.constant(''),
  fc.webPath(),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('?framing=newline', '#insecure', '?framing=%ZZ'),
);
const userinfo = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 10 }).map((s) => `${s}@`),
  fc.constantFrom('u:p@', 'u:%ZZ@', ':@'),
);
const urlish = fc.tuple(scheme, userinfo, host, port, rest).map(([s, u, h, p, r]) => `${s}://${u}${h}${p}${r}`);

describe('parseDrainUrl (property)', () => {
  it('arbitrary strings: a target or a typed 4xx error, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => typedOnly(() => parseDrainUrl(s))),
      { numRuns: 2000 },
    );
  });

  it('url-ish strings: a target or a typed 4xx error, nothing else', () => {
    fc.assert(
      fc.property(urlish, (s) => typedOnly(() => parseDrainUrl(s))),
      { numRuns: 3000 },
    );
    fc.assert(fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (s) => typedOnly(() => parseDrainUrl(s))));
  });

  it('a parsed target has a valid port and a host the policy can judge', () => {
    const policy = new DestinationPolicy({ allowPrivate: false, allowCidrs: [] });
    fc.assert(
      fc.property(urlish, (s) => {
        let t;
        try {
          t = parseDrainUrl(s);
        } catch {
          return;
        }
        expect(t.port).toBeGreaterThanOrEqual(1);
        expect(t.port).toBeLessThanOrEqual(65535);
        expect(t.host).not.toMatch(/[\s\x00-\x1f\x7f/\\@]/);
        if (parseAddress(t.host)) expect(() => policy.refusal(t.host)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('the create body: any JSON value gives a url string or a typed error', () => {
    fc.assert(fc.property(fc.anything(), (body) => typedOnly(() => requireUrlParam({ url: body }))));
    fc.assert(fc.property(fc.anything(), (body) => typedOnly(() => requireUrlParam(body))));
  });
});

describe('destination policy (property)', () => {
  const policies = [
    new DestinationPolicy({ allowPrivate: false, allowCidrs: [] }),
    new DestinationPolicy({ allowPrivate: true, allowCidrs: ['127.0.0.0/8', '::1/128', 'fd00::/8'] }),
  ];
  const anyAddress = fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.ipV6(), fc.string({ unit: 'binary', maxLength: 40 }));

  it('classifies any address (or non-address) without throwing', () => {
    fc.assert(
      fc.property(anyAddress, (a) => {
        expect(['public', 'private', 'refused']).toContain(classifyAddress(a).verdict);
        for (const p of policies) {
          const why = p.refusal(a);
          expect(why === null || typeof why === 'string').toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('an IPv4 address and its IPv4-mapped IPv6 form get the same verdict', () => {
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        expect(classifyAddress(`::ffff:${a}`).verdict).toBe(classifyAddress(a).verdict);
        for (const p of policies) expect(p.refusal(`::ffff:${a}`) === null).toBe(p.refusal(a) === null);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads every numeric IPv4 spelling as the WHATWG URL parser (what http clients connect to) does', () => {
    fc.assert(
      fc.property(fc.ipV4Extended(), (spelling) => {
        const whatwg = new URL(`http://${spelling}/`).hostname;
        expect(parseAddress(spelling)?.toString()).toBe(whatwg);
      }),
      { numRuns: 2000 },
    );
  });
});
