/**
 * lib/log/app-json: the scanning hot path for app logs must answer exactly what parseKafkaMessage
 * answers, for every input: fluentd-shaped JSON, hostile field values (escapes, quotes, lone
 * surrogates, control characters), duplicate keys, keys written with escapes, deep nesting, and
 * text that is almost JSON (one character inserted, removed or replaced).
 */
import fc from 'fast-check';
import { parseLogMessage, scanAppJson } from '../../lib/log/app-json';
import { parseKafkaMessage, ROUTER_TOPIC, BUILD_TOPIC, type KafkaMessageInput } from '../../lib/log/parse';

const NOW = new Date('2020-01-01T00:00:00.000Z');
const RUNS = { numRuns: 2000 };

function msg(value: string | Buffer | null, topic = 'space1'): KafkaMessageInput {
  return { topic, partition: 2, offset: '41', timestamp: '1577836800123', value };
}

/** Both parsers on the same message, with the same `now`. */
function same(value: string | Buffer | null, topic?: string): void {
  const m = msg(value, topic);
  expect(parseLogMessage(m, NOW)).toEqual(parseKafkaMessage(m, NOW));
}

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    'x\n',
    'a "quoted" \\ text\n',
    'tab\there\r\n',
    '\u2028\u2029',
    '\ud800 lone',
    'é ü 漢字 🎉\n',
    'Phase: Running/terminated -- exitCode=130',
  ),
);
const name = fc.oneof(fc.constantFrom('api', 'api--worker', '--web', 'api-web-1562910588-cg82f', 'akkeris/event', ''), text);
const anything = fc.oneof(text, fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
const often = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: a, weight: 4 }, { arbitrary: anything, weight: 1 });

const fluentd = fc.record(
  {
    log: often(text),
    stream: often(fc.constantFrom('stdout', 'stderr')),
    time: often(fc.constantFrom('2016-08-24T17:03:20.080151664Z', '2016-08-24T17:03:20Z', 'not a time')),
    docker: fc.jsonValue({ maxDepth: 2 }),
    kubernetes: often(
      fc.record({ container_name: often(name), pod_name: often(name), labels: fc.jsonValue({ maxDepth: 2 }), namespace_name: text }, { requiredKeys: [] }),
    ),
    topic: text,
  },
  { requiredKeys: [] },
);

/** JSON.stringify with spacing, so whitespace between every token is exercised too. */
const serialized = fc.tuple(fluentd, fc.constantFrom(undefined, 1, '\t', ' \r\n')).map(([o, space]) => JSON.stringify(o, null, space));

describe('parseLogMessage (the scanning hot path) agrees with parseKafkaMessage', () => {
  it('on fluentd-shaped messages with hostile fields', () => {
    fc.assert(
      fc.property(serialized, (t) => same(t)),
      RUNS,
    );
  });

  it('on the same bytes as a Buffer', () => {
    fc.assert(
      fc.property(serialized, (t) => same(Buffer.from(t, 'utf8'))),
      RUNS,
    );
  });

  it('on almost-JSON: one character inserted, removed or replaced anywhere', () => {
    const edit = fc.tuple(
      serialized,
      fc.nat(),
      fc.constantFrom('', '"', '\\', ',', '}', '{', ']', '[', ':', ' ', '0', '-', '.', 'e', 'n', '\u0001', 'x'),
      fc.boolean(),
    );
    fc.assert(
      fc.property(edit, ([t, at, ch, replace]) => {
        const i = at % (t.length + 1);
        same(t.slice(0, i) + ch + t.slice(replace ? i + 1 : i));
      }),
      RUNS,
    );
  });

  it('on any JSON value and any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
          fc.string({ unit: 'binary' }),
        ),
        (t) => same(t),
      ),
      RUNS,
    );
  });

  it('on numbers in every JSON form and in forms JSON refuses', () => {
    const nums = [
      '0',
      '-0',
      '1.5',
      '1e5',
      '1E+5',
      '-1.25e-3',
      '01',
      '1.',
      '.5',
      '+1',
      '-',
      '1e',
      '0x10',
      'NaN',
      'Infinity',
      'tru',
      'nul',
      'true',
      'null',
      'false',
    ];
    for (const n of nums) {
      same(`{"log":"x","n":${n},"kubernetes":{"container_name":"api","pod_name":"api-web-1-a","v":[${n}]}}`);
    }
  });

  it('on duplicate keys (the last wins), escaped keys and escaped values', () => {
    const k = '"kubernetes":{"container_name":"api","pod_name":"api-web-1-a"}';
    const cases = [
      `{"log":"one\\n","log":"two\\n",${k}}`,
      `{"log":"one\\n",${k},"log":7}`,
      `{"log":"x",${k},"kubernetes":{"pod_name":"api-web-2-b"}}`,
      `{"log":"x",${k},"kubernetes":[]}`,
      `{"log":"x","kubernetes":"no",${k}}`,
      `{"log":"x","kubernetes":{"container_name":"api","container_name":"web","pod_name":"p"}}`,
      `{"\\u006cog":"escaped key",${k}}`,
      `{"log":"x","kubernetes":{"container\\u005fname":"api","pod_name":"p"}}`,
      `{"log":"ends in a backslash-n \\\\n",${k}}`,
      `{"log":"a \\"quoted\\" \\u00e9 \\ud83c\\udf89 \\/ \\b\\f\\r\\t\\n",${k}}`,
      `{"log":"\\n",${k}}`,
      `{"log":"x\\n\\n",${k}}`,
      `{"log":"x  \\n",${k},"stream":"std\\u0065rr","time":"2016-08-24T17:03:20\\u002e5Z"}`,
      `{"log":"x\\q",${k}}`,
      `{"log":"x\\u12",${k}}`,
      `{"log":"x\\u12g4",${k}}`,
      `{"log":"raw\ttab",${k}}`,
      `{"log":"x",${k}} `,
      `{"log":"x",${k}} x`,
      `{"log":"x",${k}}}`,
      `{"log":"x",${k},}`,
      `{"log":"x",,${k}}`,
      `{"log":"x" ${k}}`,
      `{"log":"x",${k}`,
      `{"log":"x","deep":${'['.repeat(5000)}${']'.repeat(5000)},${k}}`,
      `{"log":"x","deep":${'[{"a":'.repeat(300)}1${'}]'.repeat(300)},${k}}`,
      `{"log":"x","deep":${'['.repeat(50)}${']'.repeat(49)},${k}}`,
      `{"log":"x","__proto__":{"log":"y"},${k}}`,
      `{}`,
      `{ }`,
      `{"log":"x","kubernetes":{}}`,
      ` {"log":"x",${k}}`,
      `\ufeff{"log":"x",${k}}`,
    ];
    for (const c of cases) same(c);
  });

  it('hands router and build topics, internal topics and empty values to parseKafkaMessage', () => {
    const k = '{"log":"x","kubernetes":{"container_name":"api","pod_name":"api-web-1-a"}}';
    same(k, ROUTER_TOPIC);
    same(k, BUILD_TOPIC);
    same(k, '__consumer_offsets');
    same(null);
    same('');
    same('   ');
  });

  it('scans only what JSON.parse accepts', () => {
    fc.assert(
      fc.property(fc.oneof(serialized, fc.string({ unit: 'binary' })), (t) => {
        if (scanAppJson(t) !== null) expect(() => JSON.parse(t) as unknown).not.toThrow();
      }),
      RUNS,
    );
  });

  it('reads a fluentd line without JSON.parse building the object', () => {
    const t = JSON.stringify({
      log: 'GET /x 200\n',
      stream: 'stderr',
      time: '2016-08-24T17:03:20.080151664Z',
      kubernetes: { container_name: 'api--worker', pod_name: 'api--worker-123-abc', labels: { a: 'b' } },
    });
    const spy = jest.spyOn(JSON, 'parse');
    try {
      const r = parseLogMessage(msg(t), NOW);
      expect(spy).not.toHaveBeenCalled();
      expect(r).toEqual(parseKafkaMessage(msg(t), NOW));
      expect(r.ok && r.line.message).toBe('GET /x 200');
      expect(r.ok && r.line.severity).toBe(3);
    } finally {
      spy.mockRestore();
    }
  });
});
