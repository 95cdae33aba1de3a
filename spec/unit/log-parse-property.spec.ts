/**
 * Property tests (fast-check) for the parser at the Kafka edge (lib/log/parse): whatever bytes a
 * producer writes, parseKafkaMessage and parseBuildMessage never throw, and answer either a
 * well-formed LogLine / BuildMessage or the malformed marker `{ok: false, kind, reason}`.
 */
import fc from 'fast-check';
import type { LogLine } from '../../lib/log/line';
import {
  BUILD_TOPIC,
  ROUTER_TOPIC,
  parseBuildMessage,
  parseKafkaMessage,
  type BuildParseResult,
  type KafkaMessageInput,
  type ParseResult,
} from '../../lib/log/parse';

const KINDS = ['empty', 'bad_json', 'missing_fields', 'internal_topic'];
const NOW = new Date('2020-01-01T00:00:00.000Z');
const RUNS = { numRuns: 500 };

/** Any string, lone surrogates and NUL included. */
const text = fc.string({ unit: 'binary', maxLength: 60 });
/** Strings a real producer would plausibly put in a field, mixed with anything. */
const fieldText = fc.oneof(
  text,
  fc.constantFrom('api', 'api--worker', 'api-web-1562910588-cg82f', 'akkeris/event', 'stderr', 'stdout', '2016-08-24T17:03:20.080151664Z', ''),
);
const fieldValue = fc.oneof(fieldText, fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));

/** Mostly a plausible value (so the parser's success paths run often), sometimes anything. */
const often = <T>(plausible: fc.Arbitrary<T>) => fc.oneof({ arbitrary: plausible, weight: 4 }, { arbitrary: fieldValue, weight: 1 });

/** Fluentd-shaped app logs whose every field may be missing, mistyped or hostile. */
const appLogObject = fc.record(
  {
    log: often(text),
    stream: fieldValue,
    time: fieldValue,
    kubernetes: often(
      fc.record(
        {
          container_name: often(fc.oneof(fc.constantFrom('api', 'api--worker', '--web'), text)),
          pod_name: often(fc.oneof(fc.constantFrom('api-web-1562910588-cg82f', 'akkeris/event', 'api'), text)),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: ['log', 'kubernetes'] },
);

/** Build messages (docs/design.md §2) with every field possibly missing, mistyped or hostile. */
const buildObject = fc.record(
  {
    build: often(fc.oneof(fc.uuid(), text, fc.integer())),
    job: fc.oneof(fieldValue, fc.integer()),
    message: often(fc.oneof(text, fc.constantFrom('Finished: SUCCESS', 'Finished: FAILURE', 'Step 1/7 : ARG SECRET=x'))),
    metadata: often(fc.oneof(fc.constantFrom('api-space', 'api', '-space', 'api-'), text)),
    status: fc.oneof(fc.constantFrom('queued', 'pending', 'succeeded', 'failed'), fieldValue),
    time: fieldValue,
  },
  { requiredKeys: ['build', 'metadata'] },
);

/** Router `k=v` text: the keys the renderer picks out, quoted or not, and junk tokens. */
const routerPair = fc
  .tuple(fc.constantFrom('hostname', 'path', 'site_domain', 'site_path', 'timestamp', 'source', 'status', ''), fieldText, fc.boolean())
  .map(([k, v, quoted]) => `${k}=${quoted ? `"${v}"` : v}`);
const routerText = fc
  .tuple(
    fc.option(
      fc.oneof(fc.constantFrom('api-space.example.com', 'api', '-x', 'a-b'), text).map((h) => `hostname=${h}`),
      { nil: '' },
    ),
    fc.array(fc.oneof(routerPair, text), { maxLength: 8 }),
  )
  .map(([host, tokens]) => [...tokens.slice(0, 2), host, ...tokens.slice(2)].join(' '));

const anyValue: fc.Arbitrary<KafkaMessageInput['value']> = fc.oneof(
  fc.constant(null),
  text,
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
);
const json = <T>(a: fc.Arbitrary<T>) => a.map((o) => JSON.stringify(o));
const value: fc.Arbitrary<KafkaMessageInput['value']> = fc.oneof(anyValue, json(appLogObject), json(buildObject), routerText);

const position = {
  partition: fc.nat(),
  offset: fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String),
  timestamp: fc.option(fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 60n }).map(String), text), { nil: undefined }),
};
const anyTopic = fc.oneof(fc.constantFrom(ROUTER_TOPIC, BUILD_TOPIC, 'space', '__consumer_offsets', ''), text);
/** Each topic with the values it is meant to carry (so every success path runs), and any topic with anything. */
const message: fc.Arbitrary<KafkaMessageInput> = fc.oneof(
  fc.record({ topic: fc.constant(ROUTER_TOPIC), value: fc.oneof(routerText, anyValue), ...position }),
  fc.record({ topic: fc.constant(BUILD_TOPIC), value: fc.oneof(json(buildObject), anyValue), ...position }),
  fc.record({ topic: fc.oneof(fc.constant('space'), text), value: fc.oneof(json(appLogObject), anyValue), ...position }),
  fc.record({ topic: anyTopic, value, ...position }),
);

function expectWellFormedLine(line: LogLine, msg: KafkaMessageInput): void {
  expect(line.time).toBeInstanceOf(Date);
  expect(Number.isNaN(line.time.getTime())).toBe(false);
  for (const field of ['app', 'space', 'appKey', 'source', 'dyno', 'processType', 'message'] as const) {
    expect(typeof line[field]).toBe('string');
  }
  expect(line.app).not.toBe('');
  expect(line.appKey).toBe(line.space === '' ? line.app : `${line.app}-${line.space}`);
  expect([3, 6]).toContain(line.severity);
  expect(line.position).toEqual({ topic: msg.topic, partition: msg.partition, offset: msg.offset });
}

function expectMarker(r: { ok: false; kind: string; reason: string }): void {
  expect(KINDS).toContain(r.kind);
  expect(typeof r.reason).toBe('string');
}

describe('parseKafkaMessage, any input', () => {
  it('never throws: a well-formed LogLine (and site line) or the malformed marker', () => {
    fc.assert(
      fc.property(message, (msg) => {
        let r: ParseResult | undefined;
        expect(() => (r = parseKafkaMessage(msg, NOW))).not.toThrow();
        if (!r!.ok) return expectMarker(r!);
        expect(msg.topic.startsWith('_')).toBe(false);
        expectWellFormedLine(r!.line, msg);
        if (r!.siteLine) {
          expect(msg.topic).toBe(ROUTER_TOPIC);
          expectWellFormedLine(r!.siteLine, msg);
          expect(r!.siteLine.space).toBe('');
        }
      }),
      RUNS,
    );
  });

  it('reads an internal topic as nothing, whatever it holds', () => {
    fc.assert(
      fc.property(message, text, (msg, suffix) => {
        const r = parseKafkaMessage({ ...msg, topic: `_${suffix}` }, NOW);
        expect(r).toMatchObject({ ok: false, kind: 'internal_topic' });
      }),
      RUNS,
    );
  });
});

describe('parseBuildMessage, any input', () => {
  it('never throws: a well-formed build message or the malformed marker', () => {
    fc.assert(
      fc.property(value, (v) => {
        let r: BuildParseResult | undefined;
        expect(() => (r = parseBuildMessage(v))).not.toThrow();
        if (!r!.ok) return expectMarker(r!);
        const b = r!.build;
        expect(typeof b.buildId).toBe('string');
        expect(b.buildId).not.toBe('');
        for (const field of ['job', 'message', 'app', 'space'] as const) expect(typeof b[field]).toBe('string');
        expect(b.app).not.toBe('');
        expect(b.space).not.toBe('');
        expect(b.appKey).toBe(`${b.app}-${b.space}`);
        expect([null, 'queued', 'pending', 'succeeded', 'failed']).toContain(b.status);
      }),
      RUNS,
    );
  });
});
