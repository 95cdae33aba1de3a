/**
 * lib/kafka/source poison partitions against a scripted client (no broker): a partition whose
 * batches keep failing, or that ends at an undecodable record batch, is held while the others flow.
 */
import { LogSource, SourceUser } from '../../lib/kafka';
import { batchOf, options, scripted, silent } from './kafka-source-scripted';

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
