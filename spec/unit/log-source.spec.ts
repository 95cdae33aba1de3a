/**
 * lib/kafka/source: the Kafka log source's own logic against a scripted client (no broker): new topics
 * and new partitions restart the consumer over the new set, a deleted topic leaves it, a crash
 * restarts after a growing back-off (never at once), and batches of a replaced consumer are dropped.
 */
import { LogSource } from '../../lib/kafka';
import { RestartBackoff } from '../../lib/kafka/source/restart';
import { batchOf, options, recorder, scripted, silent } from './kafka-source-scripted';

describe('LogSource', () => {
  it('subscribes to the wanted topics, seeks tracked positions, and restarts over a new topic', async () => {
    const k = scripted({ space: 1, _internal: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options(), silent);
    await source.start();
    expect(k.started).toHaveLength(1);
    expect(k.started[0].opts).toMatchObject({ groupId: 'g-1', topics: ['space'], autoCommit: false, fromBeginning: false, name: 'test' });
    expect(k.started[0].seeks).toEqual([['space', 0, '7']]);
    expect(user.changes[0]).toEqual({
      initial: true,
      added: [{ topic: 'space', partitions: [{ partition: 0, low: '0', high: '10' }] }],
      grown: [],
      removed: [],
    });

    // Nothing changed: the consumer stays.
    await source.refresh();
    expect(k.started).toHaveLength(1);

    k.topics.set('other', 2);
    await source.refresh();
    expect(k.started).toHaveLength(2);
    expect(k.started[0].stopped).toBe(true);
    expect(user.restarts).toBe(1);
    expect(k.started[1].opts).toMatchObject({ groupId: 'g-2', topics: ['other', 'space'] });
    expect(user.changes[1]).toMatchObject({ initial: false, added: [{ topic: 'other' }], grown: [], removed: [] });
    expect(source.topics).toEqual(['other', 'space']);
    await source.stop();
  });

  it('a new partition of a known topic restarts the consumer and is announced with its offsets', async () => {
    const k = scripted({ space: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options(), silent);
    await source.start();
    k.topics.set('space', 3);
    await source.refresh();
    expect(k.started).toHaveLength(2);
    expect(user.changes[1]).toEqual({
      initial: false,
      added: [],
      grown: [
        {
          topic: 'space',
          partitions: [
            { partition: 1, low: '0', high: '20' },
            { partition: 2, low: '0', high: '30' },
          ],
        },
      ],
      removed: [],
    });
    await source.stop();
  });

  it('a deleted topic is announced and left out of the next subscription', async () => {
    const k = scripted({ a: 1, b: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options(), silent);
    await source.start();
    k.topics.delete('b');
    await source.refresh();
    expect(user.changes[1]).toMatchObject({ removed: ['b'], added: [], grown: [] });
    expect(k.started[1].opts.topics).toEqual(['a']);
    // Every topic gone: no consumer at all (none may subscribe to nothing).
    k.topics.delete('a');
    await source.refresh();
    expect(k.started).toHaveLength(2);
    expect(k.started[1].stopped).toBe(true);
    expect(source.topics).toEqual([]);
    await source.stop();
  });

  it('a topic whose offsets could not be read is announced again by the next look', async () => {
    const k = scripted({ a: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options(), silent);
    await source.start();
    k.topics.set('b', 1);
    const partitionOffsets = k.kafka.partitionOffsets;
    k.kafka.partitionOffsets = async () => Promise.reject(new Error('Kafka went away'));
    await expect(source.refresh()).rejects.toThrow('Kafka went away');
    expect(user.changes).toHaveLength(1);
    k.kafka.partitionOffsets = partitionOffsets;
    await source.refresh();
    expect(user.changes[1]).toMatchObject({ added: [{ topic: 'b' }] });
    expect(k.started[1].opts.topics).toEqual(['a', 'b']);
    await source.stop();
  });

  it('group users: a brand-new group is started at the end once, commits go through the running consumer', async () => {
    const k = scripted({ a: 1 });
    const source = new LogSource(k.kafka, recorder(), options({ start: 'group-at-end', commit: 'manual', groupId: 'drains' }), silent);
    expect(await source.commit([{ topic: 'a', partition: 0, offset: '1' }])).toBe(false);
    await source.start();
    expect(k.groupsAtEnd).toEqual([['a']]);
    expect(k.started[0].opts).toMatchObject({ groupId: 'drains', fromBeginning: true, autoCommit: false });
    expect(k.started[0].seeks).toEqual([]);
    expect(await source.commit([{ topic: 'a', partition: 0, offset: '5' }])).toBe(true);
    expect(k.started[0].commits).toEqual([[{ topic: 'a', partition: 0, offset: '5' }]]);
    k.topics.set('b', 1);
    await source.refresh();
    expect(k.groupsAtEnd).toHaveLength(1);
    expect(k.started[1].opts.groupId).toBe('drains');
    await source.stop();
  });

  it('creates the topics it must read when they do not exist (the build-log topic)', async () => {
    const k = scripted({});
    const source = new LogSource(
      k.kafka,
      recorder(),
      options({ start: 'earliest', commit: 'resolved', ensureTopics: ['alamobuildlogs'], wanted: (t) => t === 'alamobuildlogs' }),
      silent,
    );
    await source.start();
    expect(k.created).toEqual(['alamobuildlogs']);
    expect(k.started[0].opts).toMatchObject({ topics: ['alamobuildlogs'], autoCommit: true, fromBeginning: true });
    await source.stop();
  });

  it('hands batches to the user, but not those of a replaced consumer or fetched before a seek', async () => {
    const k = scripted({ space: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options(), silent);
    await source.start();
    const first = k.started[0];
    await first.eachBatch(batchOf('space', 0, [{}]));
    await first.eachBatch(batchOf('space', 0, [{}], true));
    expect(user.batches).toHaveLength(1);
    k.topics.set('x', 1);
    await source.refresh();
    await first.eachBatch(batchOf('space', 0, [{}]));
    expect(user.batches).toHaveLength(1);
    await k.started[1].eachBatch(batchOf('space', 0, [{}]));
    expect(user.batches).toHaveLength(2);
    await source.stop();
  });

  it('seeks the running consumer by timestamp', async () => {
    const k = scripted({ space: 2 });
    const source = new LogSource(k.kafka, recorder(), options({ start: 'earliest', commit: 'resolved' }), silent);
    await source.start();
    await source.seekToTime('space', 1000);
    expect(k.started[0].seeks).toEqual([
      ['space', 0, '1000'],
      ['space', 1, '1001'],
    ]);
    await source.stop();
  });

  describe('crash restart', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('re-lists and restarts after a back-off that grows while no batch gets through, and resets on progress', async () => {
      const k = scripted({ space: 1, gone: 1 });
      const user = recorder();
      const source = new LogSource(k.kafka, user, options({ restart: { baseMs: 1000, maxMs: 4000 } }), silent);
      await source.start();
      const waitAndCount = async (ms: number) => {
        await jest.advanceTimersByTimeAsync(ms);
        return k.started.length;
      };

      // The usual cause: a deleted topic. Not restarted at once (no tight loop)…
      k.topics.delete('gone');
      k.started[0].crash(Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' }));
      expect(source.topics).toEqual([]);
      expect(await waitAndCount(999)).toBe(1);
      // …but after the base wait, over the topics that exist now.
      expect(await waitAndCount(1)).toBe(2);
      expect(k.started[1].opts.topics).toEqual(['space']);
      expect(user.changes[1]).toMatchObject({ removed: ['gone'] });

      // Crashing again without progress: twice the wait, then capped.
      k.started[1].crash(new Error('boom'));
      expect(await waitAndCount(1999)).toBe(2);
      expect(await waitAndCount(1)).toBe(3);
      k.started[2].crash(new Error('boom'));
      expect(await waitAndCount(3999)).toBe(3);
      expect(await waitAndCount(1)).toBe(4);
      k.started[3].crash(new Error('boom'));
      expect(source.crashStreak).toBe(4);
      expect(await waitAndCount(3999)).toBe(4);
      expect(await waitAndCount(1)).toBe(5);

      // A handled batch is progress: the next crash waits the base time again.
      await k.started[4].eachBatch(batchOf('space', 0, [{}]));
      expect(source.crashStreak).toBe(0);
      k.started[4].crash(new Error('boom'));
      expect(await waitAndCount(1000)).toBe(6);
      // A crash of a consumer already replaced changes nothing.
      k.started[4].crash(new Error('late'));
      expect(await waitAndCount(10_000)).toBe(6);
      await source.stop();
    });

    it('a stopped source does not restart after a crash', async () => {
      const k = scripted({ space: 1 });
      const source = new LogSource(k.kafka, recorder(), options(), silent);
      await source.start();
      k.started[0].crash(new Error('boom'));
      await source.stop();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(k.started).toHaveLength(1);
    });
  });
});

describe('RestartBackoff', () => {
  it('doubles from base to max and resets on progress', () => {
    const b = new RestartBackoff({ baseMs: 100, maxMs: 1000 });
    expect([b.crashed(), b.crashed(), b.crashed(), b.crashed(), b.crashed(), b.crashed()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.progressed();
    expect(b.crashed()).toBe(100);
  });
});
