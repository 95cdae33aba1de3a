/** POST /log-events validation: platform topics are not spaces, and every free-text field is bounded (security review F3). */
import { validateLogEvent, MAX_EVENT_FIELD_LENGTH, MAX_LOG_BYTES } from '../../lib/events';
import { Unprocessable } from '../../lib/errors';
import { BUILD_TOPIC, ROUTER_TOPIC } from '../../lib/log/parse';
import { logEventBody } from '../helpers/log-event';

const now = new Date('2026-01-02T03:04:05.678Z');
const good = logEventBody;

function refusal(body: unknown): string {
  try {
    validateLogEvent(body, now);
  } catch (e) {
    expect(e).toBeInstanceOf(Unprocessable);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('POST /log-events: platform topics', () => {
  it.each([BUILD_TOPIC, ROUTER_TOPIC])('refuses the platform topic %s as a space', (topic) => {
    expect(['alamobuildlogs', 'alamoweblogs']).toContain(topic);
    expect(refusal({ ...good(), topic })).toBe(`The specified "topic" "${topic}" is a platform topic, not a space.`);
  });

  it('refuses internal topics and accepts an ordinary space', () => {
    expect(refusal({ ...good(), topic: '__consumer_offsets' })).toMatch(/is not a valid space name/);
    expect(validateLogEvent({ ...good(), topic: 'alamobuildlogs2' }, now).topic).toBe('alamobuildlogs2');
  });
});

describe('POST /log-events: bounded fields', () => {
  it(`log: at most ${MAX_LOG_BYTES} bytes (UTF-8)`, () => {
    expect(MAX_LOG_BYTES).toBe(100_000);
    expect(validateLogEvent({ ...good(), log: 'x'.repeat(100_000) }, now).log).toHaveLength(100_000);
    expect(refusal({ ...good(), log: 'x'.repeat(100_001) })).toBe('The specified "log" text is larger than 100000 bytes.');
    // 50,001 two-byte characters are 100,002 bytes.
    expect(refusal({ ...good(), log: 'é'.repeat(50_001) })).toBe('The specified "log" text is larger than 100000 bytes.');
  });

  const set = (path: string, value: string) => {
    const body = good() as Record<string, unknown> & ReturnType<typeof good>;
    const [head, ...rest] = path.split('.');
    if (rest.length === 0) return { ...body, [head]: value };
    if (head === 'docker') return { ...body, docker: { container_id: value } };
    if (rest[0] === 'labels') return { ...body, kubernetes: { ...body.kubernetes, labels: { name: value } } };
    return { ...body, kubernetes: { ...body.kubernetes, [rest[0]]: value } };
  };

  it.each([
    'tag',
    'docker.container_id',
    'kubernetes.host',
    'kubernetes.pod_id',
    'kubernetes.labels.name',
    'kubernetes.namespace_name',
    'kubernetes.container_name',
  ])(`%s: at most ${MAX_EVENT_FIELD_LENGTH} characters, else 422 naming the field`, (field) => {
    expect(MAX_EVENT_FIELD_LENGTH).toBe(256);
    expect(() => validateLogEvent(set(field, 'a'.repeat(256)), now)).not.toThrow();
    expect(refusal(set(field, 'a'.repeat(257)))).toBe(`The specified "${field}" is longer than allowed (256 characters is the maximum).`);
  });

  it('kubernetes.pod_name: at most 256 characters', () => {
    const pod = (n: number) => `akkeris/${'e'.repeat(n - 'akkeris/'.length)}`;
    expect(validateLogEvent(set('kubernetes.pod_name', pod(256)), now).kubernetes.pod_name).toHaveLength(256);
    expect(refusal(set('kubernetes.pod_name', pod(257)))).toBe('The specified "kubernetes.pod_name" is longer than allowed (256 characters is the maximum).');
  });
});
