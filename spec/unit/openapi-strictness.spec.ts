/**
 * The published schemas are as strict as the routes' validation: a body or parameter the validation
 * refuses for its form is refused by the schema too, and what the schema's examples show is accepted
 * by both. What only a running node can tell (the space exists, a since date within retention, a drain
 * host resolving to a public address, a filter the regex engine compiles) is left to the descriptions.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { loadConfig } from '../../lib/config';
import { validateLogEvent } from '../../lib/events';
import { assembleDocument } from '../../lib/openapi/assemble';
import { upTo } from '../../lib/openapi/patterns';
import { siteKey } from '../../lib/sites';
import { parseSessionRequest } from '../../lib/tail/params';
import { parseDrainUrl, requireUrlParam } from '../../drains/url';
import { openApiDocument } from '../../routes/openapi';

const cfg = loadConfig({});
const doc = openApiDocument(cfg);
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc as unknown as object, 'openapi.json');
const schema = (name: string) => {
  const validate = ajv.getSchema(`openapi.json#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  return (value: unknown) => validate(value) as boolean;
};
const accepts = (fn: () => unknown) => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};

describe('the numbers 0..max as a pattern (upTo)', () => {
  it.each([0, 1, 7, 9, 10, 99, 100, 168, 250, 1500, 10080, 604800])('matches exactly 0..%i, without leading zeros', (max) => {
    const all = new RegExp(`^${upTo(max)}$`);
    const positive = new RegExp(`^${upTo(max, true)}$`);
    // Every number up to a few thousand, then each digit position's edges up to twice the bound.
    const numbers = new Set<number>();
    for (let n = 0; n <= Math.min(max * 2 + 20, 5000); n++) numbers.add(n);
    for (let p = 1; p <= max * 2 + 20; p *= 10) for (const d of [-1, 0, 1]) for (let k = 1; k <= 9; k++) numbers.add(k * p + d);
    for (const d of [-11, -10, -9, -2, -1, 0, 1, 2, 9, 10, 11]) if (max + d >= 0) numbers.add(max + d);
    for (let i = 0; i < 20000; i++) numbers.add((i * 7919) % (max * 2 + 21));
    const wrong = [...numbers].filter((n) => all.test(String(n)) !== n <= max || (max >= 1 && positive.test(String(n)) !== (n >= 1 && n <= max)));
    expect(wrong).toEqual([]);
    if (max > 0) expect(all.test(`0${max}`)).toBe(false);
  });
});

describe('log-session requests (lib/tail/params)', () => {
  const valid = schema('LogSessionRequest');
  const api = (body: unknown) => accepts(() => parseSessionRequest(body, { kind: 'app', key: 'api-docs' }, { maxLines: cfg.maxSessionLines }));

  it.each([
    { lines: 0 },
    { lines: '0' },
    { lines: cfg.maxSessionLines + 1 },
    { lines: String(cfg.maxSessionLines + 1) },
    { lines: 'ten' },
    { lines: 1.5 },
    { tail: true },
    { lines: 1, tail: 'yes' },
    { lines: 1, dyno: 'web\u0001' },
    { lines: 1, type: 'x'.repeat(129) },
    { lines: 1, source: 7 },
    { lines: 1, since: '8d' },
    { lines: 1, since: '605000s' },
    { lines: 1, since: 'yesterday' },
    { lines: 1, filter: 'x'.repeat(cfg.maxFilterLength + 1) },
  ])('%j is refused by both', (body) => {
    expect(api(body)).toBe(false);
    expect(valid(body)).toBe(false);
  });

  it.each([
    { lines: 1 },
    { lines: ` ${cfg.maxSessionLines} ` },
    { lines: 5, tail: 'true', dyno: 'web', since: '7d', filter: 'GET /health' },
    { lines: 2, since: '10m', source: null },
  ])('%j is accepted by both', (body) => {
    expect(api(body)).toBe(true);
    expect(valid(body)).toBe(true);
  });
});

describe('log events (lib/events validateLogEvent)', () => {
  const valid = schema('LogSpecRequest');
  const example = (doc.components.schemas.LogSpecRequest.examples as Record<string, unknown>[])[0];
  const k8s = example.kubernetes as Record<string, unknown>;

  it('accepts the example', () => {
    expect(accepts(() => validateLogEvent(example))).toBe(true);
    expect(valid(example)).toBe(true);
  });

  it.each([
    ['a blank log', { ...example, log: ' \n ' }],
    ['a log over the byte limit', { ...example, log: 'x'.repeat(100_001) }],
    ['no topic', { ...example, topic: undefined }],
    ['a platform topic', { ...example, topic: 'alamoweblogs' }],
    ['an internal topic', { ...example, topic: '__consumer_offsets' }],
    ['an app name with capitals', { ...example, kubernetes: { ...k8s, container_name: 'Api' } }],
    ['a source that is not a platform one', { ...example, kubernetes: { ...k8s, pod_name: 'api-web-1' } }],
    ['a stream that is neither', { ...example, stream: 'stdin' }],
    ['a time that is not RFC3339', { ...example, time: 'now' }],
    ['a tag too long', { ...example, tag: 'x'.repeat(257) }],
  ])('refuses %s, as the validation does', (_what, body) => {
    expect(accepts(() => validateLogEvent(body))).toBe(false);
    expect(valid(body)).toBe(false);
  });
});

describe('drain urls (drains/url)', () => {
  const valid = schema('DrainRequest');
  const api = (body: { url?: unknown }) => accepts(() => parseDrainUrl(requireUrlParam(body)));
  const examples = (doc.components.schemas.DrainRequest.properties as { url: { examples: string[] } }).url.examples;

  it.each(examples)('accepts the example %s', (url) => {
    expect(api({ url })).toBe(true);
    expect(valid({ url })).toBe(true);
  });

  it.each(['', '   ', 'ftp://logs.example.com', 'logs.example.com:514', 'syslog+tls://', 'https://logs.example.com/\u0000', `https://${'a'.repeat(2049)}.com`])(
    'refuses %j, as the validation does',
    (url) => {
      expect(api({ url })).toBe(false);
      expect(valid({ url })).toBe(false);
    },
  );
});

describe('sites (lib/sites)', () => {
  const param = doc.paths['/sites/{site}/log-sessions'].post?.parameters?.[0];
  const validate = ajv.compile(param?.schema as object);

  it.each(['-www.example.com', 'www..example.com', 'www_example.com', `${'a'.repeat(64)}.com`, 'ümlaut.example'])(
    'refuses %s, as the validation does',
    (site) => {
      expect(accepts(() => siteKey(site))).toBe(false);
      expect(validate(site)).toBe(false);
    },
  );

  it.each(['www.example.com', 'EXAMPLE.org', 'a'])('accepts %s', (site) => {
    expect(accepts(() => siteKey(site))).toBe(true);
    expect(validate(site)).toBe(true);
  });
});

describe('assembling fragments', () => {
  it('refuses a path two fragments describe', () => {
    const fragment = { paths: { '/x': {} } };
    expect(() => assembleDocument(cfg, [fragment, fragment])).toThrow('path /x is described by two fragments');
  });
});
