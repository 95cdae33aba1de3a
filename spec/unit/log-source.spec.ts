/**
 * lib/kafka/source: the Kafka log source's own logic against a scripted client (no broker): new topics
 * and new partitions restart the consumer over the new set, a deleted topic leaves it, a crash
 * restarts after a growing back-off (never at once), batches of a replaced consumer are dropped,
 * and malformed records are counted and skipped.
 */
import type { Batch, ConsumerOptions, KafkaRecord, PartitionOffsets, RunningConsumer } from '../../lib/kafka/client';
import { createLogger } from '../../lib/logger';
import { HAND_OFF_QUEUE, LogSource, LogSourceOptions, SourceKafka, SourceTopics, SourceUser } from '../../lib/kafka/source/log-source';
import { RestartBackoff } from '../../lib/kafka/source/restart';
import { LogLineReader } from '../../lib/kafka/source/lines';

const silent = createLogger('silent');

interface Started {
  opts: ConsumerOptions;
  eachBatch: (b: Batch) => Promise<void>;
  seeks: [string, number, string][];
  commits: { topic: string; partition: number; offset: string }[][];
  paused: string[];
  resumed: string[];
  stopped: boolean;
  crash: (err: Error) => void;
}

/** A Kafka with a topic → partition count map the test edits, recording every consumer started. */
function scripted(initial: Record<string, number>) {
  const topics = new Map(Object.entries(initial));
  const started: Started[] = [];
  const groupsAtEnd: string[][] = [];
  const created: string[] = [];
  const kafka: SourceKafka = {
    listTopics: async () => [...topics.keys()],
    topicPartitions: async () => [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    createTopic: async (t, n = 3) => {
      created.push(t);
      topics.set(t, n);
    },
    partitionOffsets: async (t): Promise<PartitionOffsets[]> =>
      Array.from({ length: topics.get(t) ?? 0 }, (_, partition) => ({ partition, low: '0', high: String(10 * (partition + 1)) })),
    offsetsByTimestamp: async (t, ts) => Array.from({ length: topics.get(t) ?? 0 }, (_, partition) => ({ partition, offset: String(ts + partition) })),
    startGroupAtEnd: async (_g, ts) => {
      groupsAtEnd.push(ts);
      return true;
    },
    consume: async (opts, eachBatch) => {
      let crashListener: (err: Error) => void = () => undefined;
      const s: Started = { opts, eachBatch, seeks: [], commits: [], paused: [], resumed: [], stopped: false, crash: (e) => crashListener(e) };
      const names = (tps: { topic: string; partitions?: number[] }[]) => tps.flatMap((t) => (t.partitions ?? [-1]).map((p) => `${t.topic}:${p}`));
      started.push(s);
      const consumer: RunningConsumer = {
        stop: async () => void (s.stopped = true),
        commit: async (points) => void s.commits.push(points),
        seek: (topic, partition, offset) => void s.seeks.push([topic, partition, offset]),
        pause: (tps) => void s.paused.push(...names(tps)),
        resume: (tps) => void s.resumed.push(...names(tps)),
        onCrash: (l) => void (crashListener = l),
      };
      return consumer;
    },
  };
  return { kafka, topics, started, groupsAtEnd, created };
}

function batchOf(topic: string, partition: number, records: Partial<KafkaRecord>[], stale = false): Batch & { resolved: string[] } {
  const resolved: string[] = [];
  return {
    topic,
    partition,
    highWatermark: '100',
    records: records.map((r, i) => ({ topic, partition, offset: String(i), timestamp: '0', key: null, value: null, ...r })),
    resolveOffset: (o) => void resolved.push(o),
    heartbeat: async () => undefined,
    commitOffsetsIfNecessary: async () => undefined,
    isRunning: () => true,
    isStale: () => stale,
    resolved,
  };
}

const options = (o: Partial<LogSourceOptions> = {}): LogSourceOptions => ({
  name: 'test',
  groupId: 'g',
  wanted: (t) => !t.startsWith('_'),
  start: 'tracked',
  commit: 'none',
  pollMs: 60_000,
  offsets: true,
  ...o,
});

function recorder(): SourceUser & { changes: SourceTopics[]; batches: Batch[]; restarts: number } {
  const u = {
    changes: [] as SourceTopics[],
    batches: [] as Batch[],
    restarts: 0,
    onBatch: (b: Batch) => void u.batches.push(b),
    topicsChanged: (c: SourceTopics) => void u.changes.push(c),
    beforeRestart: async () => void u.restarts++,
    positions: () => [{ topic: 'space', partition: 0, offset: 7 }],
  };
  return u;
}

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

describe("LogSource hand-off (tracked users: the next fetch overlaps the user's work)", () => {
  const turn = () => new Promise<void>((r) => setImmediate(r));
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await turn();
  };
  const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ offset: String(from + i) }));
  const seen = (u: ReturnType<typeof recorder>) => u.batches.map((b) => `${b.topic}:${b.partition}@${b.records[0].offset}`);

  it("resolves each batch's last offset at once, hands the batches over in order on later turns, and ignores the user's resolveOffset", async () => {
    const k = scripted({ space: 2 });
    const user = recorder();
    user.onBatch = (b: Batch) => {
      user.batches.push(b);
      b.resolveOffset('0');
    };
    const source = new LogSource(k.kafka, user, options({ handOff: true }), silent);
    await source.start();
    const a = batchOf('space', 0, records(0, 3));
    const b = batchOf('space', 1, records(0, 2));
    const c = batchOf('space', 0, records(3, 2));
    // kafkajs's eachBatch returns before the user has seen the batch: its next fetch can start.
    await k.started[0].eachBatch(a);
    await k.started[0].eachBatch(b);
    expect(user.batches).toHaveLength(0);
    expect(a.resolved).toEqual(['2']);
    expect(b.resolved).toEqual(['1']);
    await k.started[0].eachBatch(c);
    await turns(5);
    expect(seen(user)).toEqual(['space:0@0', 'space:1@0', 'space:0@3']);
    // The user's own resolveOffset('0') did not move the fetch position back.
    expect([a.resolved, b.resolved, c.resolved]).toEqual([['2'], ['1'], ['4']]);
    await source.stop();
  });

  it('never hands over a batch queued by a replaced or stopped consumer, or before a seek', async () => {
    const k = scripted({ space: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options({ handOff: true }), silent);
    await source.start();
    await k.started[0].eachBatch(batchOf('space', 0, records(0, 1)));
    // A new topic replaces the consumer before the queued batch's turn came.
    k.topics.set('x', 1);
    await source.refresh();
    await turns(3);
    expect(user.batches).toHaveLength(0);
    // The new consumer was seeked to the user's positions: that batch is read again through it.
    expect(k.started[1].seeks).toEqual([['space', 0, '7']]);
    await k.started[1].eachBatch(batchOf('space', 0, records(7, 1)));
    await turns(2);
    expect(seen(user)).toEqual(['space:0@7']);

    // Queued, then the running consumer is seeked: not handed over (as kafkajs's isStale()).
    await k.started[1].eachBatch(batchOf('space', 0, records(8, 1)));
    await source.seekToTime('space', 1000);
    await turns(3);
    expect(user.batches).toHaveLength(1);

    // Queued, then the source stops.
    await k.started[1].eachBatch(batchOf('space', 0, records(1000, 1)));
    await source.stop();
    await turns(3);
    expect(user.batches).toHaveLength(1);
  });

  it('holds kafkajs (its eachBatch waits) while more than HAND_OFF_QUEUE batches wait', async () => {
    const k = scripted({ space: 1 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options({ handOff: true }), silent);
    await source.start();
    const done: number[] = [];
    for (let i = 0; i <= HAND_OFF_QUEUE + 1; i++) void k.started[0].eachBatch(batchOf('space', 0, records(i, 1))).then(() => done.push(i));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    // The first HAND_OFF_QUEUE returned at once; the last ones wait for room.
    expect(done).toEqual(Array.from({ length: HAND_OFF_QUEUE }, (_, i) => i));
    await turns(HAND_OFF_QUEUE + 4);
    expect(done).toHaveLength(HAND_OFF_QUEUE + 2);
    expect(user.batches).toHaveLength(HAND_OFF_QUEUE + 2);
    await source.stop();
  });

  it("a batch the user fails on replaces the consumer after the back-off, seeked back to the user's positions; what was queued behind it is dropped", async () => {
    const k = scripted({ space: 1 });
    const user = recorder();
    let fail = true;
    user.onBatch = (b: Batch) => {
      if (fail) throw new Error('cannot');
      user.batches.push(b);
    };
    const source = new LogSource(k.kafka, user, options({ handOff: true, restart: { baseMs: 50, maxMs: 50 } }), silent);
    await source.start();
    await k.started[0].eachBatch(batchOf('space', 0, records(7, 1)));
    await k.started[0].eachBatch(batchOf('space', 0, records(8, 1)));
    await turns(3);
    expect(k.started[0].stopped).toBe(true);
    expect(source.topics).toEqual([]);
    expect(user.batches).toHaveLength(0);
    fail = false;
    await new Promise((r) => setTimeout(r, 80));
    expect(k.started).toHaveLength(2);
    expect(k.started[1].seeks).toEqual([['space', 0, '7']]);
    await k.started[1].eachBatch(batchOf('space', 0, records(7, 2)));
    await turns(2);
    expect(seen(user)).toEqual(['space:0@7']);
    await source.stop();
  });
});

describe('LogSource poison partitions', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('quarantines a partition whose batches keep failing (paused, unresolved, counted), the others flow, and tries it again later', async () => {
    const k = scripted({ good: 1, bad: 1 });
    const handled: string[] = [];
    const user: SourceUser = {
      onBatch: (b) => {
        if (b.topic === 'bad') throw new Error('cannot read this');
        handled.push(b.topic);
      },
    };
    const set: Record<string, number> = {};
    const metrics = {
      quarantined: { set: (l: { topic: string }, v: number) => void (set[l.topic] = v), remove: (l: { topic: string }) => void delete set[l.topic] },
    };
    const source = new LogSource(
      k.kafka,
      user,
      options({ start: 'earliest', commit: 'resolved', poisonAfter: 3, quarantineMs: 60_000, pollMs: 1000, metrics: metrics as never }),
      silent,
    );
    await source.start();
    const c = k.started[0];
    const bad = batchOf('bad', 0, [{}]);
    // kafkajs retries a failed batch: the first failures are thrown back to it…
    await expect(c.eachBatch(bad)).rejects.toThrow('cannot read this');
    await c.eachBatch(batchOf('good', 0, [{}]));
    await expect(c.eachBatch(bad)).rejects.toThrow('cannot read this');
    expect(source.quarantinedPartitions).toEqual([]);
    // …the third in a row quarantines the partition: paused, the batch dropped unresolved.
    await c.eachBatch(bad);
    expect(bad.resolved).toEqual([]);
    expect(c.paused).toEqual(['bad:0']);
    expect(source.quarantinedPartitions).toEqual(['bad:0']);
    expect(set).toEqual({ bad: 1 });
    await c.eachBatch(batchOf('good', 0, [{}]));
    expect(handled).toEqual(['good', 'good']);

    // A restart (a new topic) keeps it held.
    k.topics.set('new', 1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(k.started).toHaveLength(2);
    expect(k.started[1].paused).toEqual(['bad:0']);
    // Past quarantineMs, the next look resumes it where it stopped.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(k.started[1].resumed).toEqual(['bad:0']);
    expect(source.quarantinedPartitions).toEqual([]);
    expect(set).toEqual({});
    await source.stop();
  });

  it('an undecodable record batch quarantines its partition at once; the records before it are delivered, nothing at or past it resolved', async () => {
    const k = scripted({ space: 2 });
    const seen: string[][] = [];
    const user: SourceUser = {
      onBatch: (b) => {
        seen.push(b.records.map((r) => `${r.partition}/${r.offset}`));
        for (const r of b.records) b.resolveOffset(r.offset);
      },
    };
    const reported: unknown[][] = [];
    const quarantines = {
      partitionQuarantined: (...a: unknown[]) => void reported.push(a),
      partitionRetrying: () => undefined,
      quarantineLifted: (...a: unknown[]) => void reported.push(['lifted', ...a]),
      quarantinesDropped: () => undefined,
    };
    const set: Record<string, number> = {};
    const metrics = { quarantined: { set: (l: { partition: string }, v: number) => void (set[l.partition] = v), remove: () => undefined } };
    const source = new LogSource(
      k.kafka,
      user,
      options({ start: 'earliest', commit: 'resolved', quarantineMs: 60_000, pollMs: 1000, metrics: metrics as never, quarantines }),
      silent,
    );
    await source.start();
    const c = k.started[0];
    const undecodable = { firstOffset: '2', lastOffset: '4', reason: 'zstd decompression failed: too large' };
    const bad = { ...batchOf('space', 1, [{ offset: '0' }, { offset: '1' }]), undecodable };
    await c.eachBatch(bad);
    expect(seen).toEqual([['1/0', '1/1']]);
    expect(bad.resolved).toEqual(['0', '1']);
    expect(c.paused).toEqual(['space:1']);
    expect(source.quarantinedPartitions).toEqual(['space:1']);
    expect(set).toEqual({ '1': 1 });
    expect(reported).toEqual([['test', 'space', 1, 'record batch at offset 2 cannot be decoded: zstd decompression failed: too large', expect.any(Number)]]);
    // The other partition flows.
    await c.eachBatch(batchOf('space', 0, [{}]));
    expect(seen).toHaveLength(2);
    // Tried again after quarantineMs, it ends at the same batch (nothing before it now): held again, never reported lifted.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(c.resumed).toEqual(['space:1']);
    const again = { ...batchOf('space', 1, []), undecodable };
    await c.eachBatch(again);
    expect(seen).toHaveLength(2);
    expect(again.resolved).toEqual([]);
    expect(c.paused).toEqual(['space:1', 'space:1']);
    expect(reported.filter((r) => r[0] === 'lifted')).toEqual([]);
    expect(source.quarantinedPartitions).toEqual(['space:1']);
    await source.stop();
  });

  it('handOff: the records before an undecodable batch are queued (resolved), the partition quarantined before eachBatch returns', async () => {
    const k = scripted({ space: 2 });
    const user = recorder();
    const source = new LogSource(k.kafka, user, options({ start: 'tracked', commit: 'none', handOff: true, quarantineMs: 60_000 }), silent);
    await source.start();
    const c = k.started[0];
    const bad = { ...batchOf('space', 1, [{ offset: '5' }]), undecodable: { firstOffset: '6', lastOffset: '6', reason: 'corrupt' } };
    await c.eachBatch(bad);
    expect(c.paused).toEqual(['space:1']);
    expect(bad.resolved).toEqual(['5']);
    await jest.advanceTimersByTimeAsync(0);
    expect(user.batches.map((b) => b.records.map((r) => r.offset))).toEqual([['5']]);
    expect(source.quarantinedPartitions).toEqual(['space:1']);
    await source.stop();
  });

  it('an outage (Unavailable) is never poison: kafkajs keeps retrying the batch', async () => {
    const { Unavailable } = await import('../../lib/errors');
    const k = scripted({ builds: 1 });
    const user: SourceUser = { onBatch: () => Promise.reject(new Unavailable('PostgreSQL', 'connection refused')) };
    const source = new LogSource(k.kafka, user, options({ start: 'earliest', commit: 'resolved', poisonAfter: 2 }), silent);
    await source.start();
    for (let i = 0; i < 5; i++) await expect(k.started[0].eachBatch(batchOf('builds', 0, [{}]))).rejects.toThrow('PostgreSQL');
    expect(source.quarantinedPartitions).toEqual([]);
    expect(k.started[0].paused).toEqual([]);
    await source.stop();
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
