import { AppRegistry, SEEN_INTERVAL_MS } from '../../lib/apps';
import type { Db } from '../../lib/db';

/** A Db that records each query's first word and knows every app (pure logic: no PostgreSQL here). */
function fakeDb() {
  const calls: string[] = [];
  const db = {
    async query(text: string, params?: unknown[]) {
      calls.push(text.split(' ')[0]);
      if (text.startsWith('SELECT')) {
        return [{ id: '00000000-0000-4000-8000-000000000001', name: 'api', space: 'space', app_key: String(params?.[0]), created_at: new Date(0) }];
      }
      return [];
    },
  } as unknown as Db;
  return { db, calls };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('AppRegistry last seen', () => {
  afterEach(() => jest.useRealTimers());

  it('records that a known app was seen at most once per interval, however many lines arrive', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { db, calls } = fakeDb();
    const apps = new AppRegistry(db);
    apps.learn('api-space');
    await settle();
    await settle();
    for (let i = 0; i < 1000; i++) apps.learn('api-space');
    expect(calls).toEqual(['INSERT', 'SELECT']);
    jest.advanceTimersByTime(SEEN_INTERVAL_MS);
    for (let i = 0; i < 1000; i++) apps.learn('api-space');
    expect(calls).toEqual(['INSERT', 'SELECT', 'UPDATE']);
    jest.advanceTimersByTime(SEEN_INTERVAL_MS - 1);
    apps.learn('api-space');
    expect(calls).toHaveLength(3);
  });
});
