import { OffsetTracker } from '../../drains/offsets';

describe('OffsetTracker', () => {
  it('commits only past lines every drain settled', () => {
    const t = new OffsetTracker();
    const a = t.add('s', 0, '10', 2);
    const b = t.add('s', 0, '11', 1);
    t.add('s', 0, '12', 0);
    expect(t.committable()).toEqual([{ topic: 's', partition: 0, offset: '10' }]);
    t.markCommitted(t.committable());
    b.settle();
    expect(t.committable()).toEqual([]);
    a.settle();
    expect(t.committable()).toEqual([]);
    a.settle();
    const points = t.committable();
    expect(points).toEqual([{ topic: 's', partition: 0, offset: '13' }]);
    t.markCommitted(points);
    expect(t.committable()).toEqual([]);
    expect(t.unsettled()).toBe(0);
  });

  it('tracks partitions independently and skips what it already dispatched', () => {
    const t = new OffsetTracker();
    const p0 = t.add('s', 0, '5', 1);
    t.add('s', 1, '7', 0);
    expect(t.committable()).toEqual([
      { topic: 's', partition: 0, offset: '5' },
      { topic: 's', partition: 1, offset: '8' },
    ]);
    expect(t.seen('s', 0, '5')).toBe(true);
    expect(t.seen('s', 0, '6')).toBe(false);
    expect(t.seen('s', 2, '0')).toBe(false);
    p0.settle();
    expect(t.committable()).toContainEqual({ topic: 's', partition: 0, offset: '6' });
  });

  it('handles gaps (compacted or skipped offsets) and many entries', () => {
    const t = new OffsetTracker();
    const acks: { settle(): void }[] = [];
    for (let i = 0; i < 5000; i++) acks.push(t.add('s', 0, String(i * 2), 1));
    for (let i = 4999; i >= 1; i--) acks[i].settle();
    expect(t.committable()).toEqual([{ topic: 's', partition: 0, offset: '0' }]);
    acks[0].settle();
    expect(t.committable()).toEqual([{ topic: 's', partition: 0, offset: '9999' }]);
  });
});
