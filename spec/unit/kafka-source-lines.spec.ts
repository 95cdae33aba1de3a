/** lib/kafka/source/lines: Kafka records → LogLine for the source's users, with malformed accounting and app learning. */
import { LogLineReader } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';

describe('LogLineReader', () => {
  it('counts malformed records by kind, warns once per kind, and learns the apps of good lines', () => {
    const warnings: string[] = [];
    const log = createLogger('warn', { write: (s: string) => void warnings.push(JSON.parse(s).msg) });
    const malformed: Record<string, number> = {};
    const learned: string[] = [];
    const reader = new LogLineReader({
      apps: { learn: (k) => void learned.push(k) },
      malformed: { inc: ({ kind }) => void (malformed[kind] = (malformed[kind] ?? 0) + 1) },
      log,
    });
    const rec = (value: string | null, offset = '0') => ({ topic: 'space', partition: 0, offset, timestamp: '1700000000000', value });
    const good = JSON.stringify({
      log: 'hello',
      stream: 'stdout',
      time: '2024-01-01T00:00:00Z',
      kubernetes: { namespace_name: 'space', pod_name: 'api-web-1-abc', container_name: 'api' },
      topic: 'space',
    });
    expect(reader.read(rec('{nope'))).toBeNull();
    expect(reader.read(rec('{also bad', '1'))).toBeNull();
    expect(reader.read(rec(null, '2'))).toBeNull();
    const ok = reader.read(rec(good, '3'));
    expect(ok?.line.appKey).toBe('api-space');
    expect(malformed).toEqual({ bad_json: 2, empty: 1 });
    expect(learned).toEqual(['api-space']);
    expect(warnings.filter((m) => m === 'malformed log message skipped')).toHaveLength(2);
  });
});
