import { validateLogEvent } from '../../lib/events';
import { BadRequest, Unprocessable } from '../../lib/errors';
import { parseKafkaMessage } from '../../lib/log/parse';
import { logEventBody } from '../helpers/log-event';

const now = new Date('2026-01-02T03:04:05.678Z');
const good = logEventBody;

describe('POST /log-events validation (Akkeris LogSpec)', () => {
  it('accepts Akkeris’s shape and round-trips through the shared parser as an akkeris/event line', () => {
    const spec = validateLogEvent(good(), now);
    expect(spec).toEqual(good());
    const parsed = parseKafkaMessage({ topic: spec.topic, partition: 0, offset: '7', value: JSON.stringify(spec) });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.line).toMatchObject({ appKey: 'api-space', source: 'akkeris/event', dyno: '', message: 'Release v12 created by jane' });
  });

  it('fills defaults: time now, stream stdout, namespace = topic, empty strings', () => {
    const spec = validateLogEvent({ log: 'x', kubernetes: { pod_name: 'akkeris/event', container_name: 'api' }, topic: 'perf-dev' }, now);
    expect(spec).toEqual({
      log: 'x',
      stream: 'stdout',
      time: now.toISOString(),
      docker: { container_id: '' },
      kubernetes: { namespace_name: 'perf-dev', pod_id: '', pod_name: 'akkeris/event', container_name: 'api', labels: { name: '' }, host: '' },
      topic: 'perf-dev',
      tag: '',
    });
  });

  it.each([null, [], 'text', 3])('rejects a body that is not an object (%j) with 400', (body) => {
    expect(() => validateLogEvent(body)).toThrow(BadRequest);
  });

  const cases: [string, (b: ReturnType<typeof good>) => unknown, RegExp][] = [
    ['no kubernetes', (b) => ({ ...b, kubernetes: undefined }), /no "kubernetes" object/],
    ['no container_name', (b) => ({ ...b, kubernetes: { ...b.kubernetes, container_name: '' } }), /container_name/],
    ['app name with a dash', (b) => ({ ...b, kubernetes: { ...b.kubernetes, container_name: 'api-space' } }), /not a valid app name/],
    ['no pod_name', (b) => ({ ...b, kubernetes: { ...b.kubernetes, pod_name: undefined } }), /pod_name/],
    ['pod_name not a platform source', (b) => ({ ...b, kubernetes: { ...b.kubernetes, pod_name: 'api-web-123-abc' } }), /not a platform source/],
    ['no topic', (b) => ({ ...b, topic: undefined }), /no "topic"/],
    ['internal topic', (b) => ({ ...b, topic: '__consumer_offsets' }), /not a valid space/],
    ['bad topic chars', (b) => ({ ...b, topic: 'a space' }), /not a valid space/],
    ['no log', (b) => ({ ...b, log: undefined }), /no "log" text/],
    ['empty log', (b) => ({ ...b, log: '  ' }), /empty/],
    ['bad stream', (b) => ({ ...b, stream: 'stdlog' }), /"stream"/],
    ['bad time', (b) => ({ ...b, time: 'yesterday' }), /RFC3339/],
    ['non-string tag', (b) => ({ ...b, tag: 5 }), /"tag" must be a string/],
  ];
  it.each(cases)('rejects %s with 422', (_name, mutate, message) => {
    let err: unknown;
    try {
      validateLogEvent(mutate(good()), now);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Unprocessable);
    expect((err as Error).message).toMatch(message);
  });
});
