import { AppRegistry, splitAppKey } from '../../lib/apps';
import type { Db } from '../../lib/db';

/** A Db that records queries and fails while `down` is set (pure logic: no PostgreSQL here). */
function fakeDb() {
  const calls: string[] = [];
  const state = { down: false };
  const db = {
    async query(text: string, params?: unknown[]) {
      calls.push(text.split(' ')[0]);
      if (state.down) throw new Error('connect ECONNREFUSED');
      if (text.startsWith('SELECT')) {
        const key = String(params?.[0]);
        const parts = splitAppKey(key)!;
        return [{ id: '00000000-0000-4000-8000-000000000001', name: parts.app, space: parts.space, app_key: key, created_at: new Date(0) }];
      }
      return [];
    },
  } as unknown as Db;
  return { db, calls, state };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('AppRegistry.learn', () => {
  it('registers an app once, however many lines arrive', async () => {
    const { db, calls } = fakeDb();
    const apps = new AppRegistry(db);
    for (let i = 0; i < 100; i++) apps.learn('api-space');
    await settle();
    await settle();
    for (let i = 0; i < 100; i++) apps.learn('api-space');
    expect(calls).toEqual(['INSERT', 'SELECT']);
  });

  it('after a failure, does not retry on every line but after the retry delay', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const { db, calls, state } = fakeDb();
      const apps = new AppRegistry(db);
      const errors: string[] = [];
      state.down = true;
      apps.learn('api-space', (e) => errors.push(e.message), 10_000);
      await settle();
      for (let i = 0; i < 50; i++) apps.learn('api-space');
      expect(calls).toEqual(['INSERT']);
      expect(errors).toHaveLength(1);
      state.down = false;
      jest.advanceTimersByTime(10_000);
      apps.learn('api-space');
      await settle();
      await settle();
      expect(calls).toEqual(['INSERT', 'INSERT', 'SELECT']);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('splitAppKey', () => {
  it('splits on the first -: app names contain none', () => {
    expect(splitAppKey('api-my-space')).toEqual({ app: 'api', space: 'my-space' });
  });

  it('answers null when the app or the space is empty', () => {
    for (const key of ['', 'api', '-space', 'api-', '-']) expect(splitAppKey(key)).toBeNull();
  });

  it('puts a key without - in defaultSpace when one is given (log topics name apps alone)', () => {
    expect(splitAppKey('api', { defaultSpace: 'default' })).toEqual({ app: 'api', space: 'default' });
    expect(splitAppKey('api-space', { defaultSpace: 'default' })).toEqual({ app: 'api', space: 'space' });
    for (const key of ['', '-space', 'api-']) expect(splitAppKey(key, { defaultSpace: 'default' })).toBeNull();
  });
});
