/** OffsetTracker.forgetTopic: a deleted topic is neither committed again nor skipped when re-created under its name. */
import { OffsetTracker } from '../../drains/offsets';

it('a forgotten topic leaves the commit points, and its re-created partitions start afresh', () => {
  const t = new OffsetTracker();
  t.add('gone', 0, '41', 0);
  t.add('kept', 0, '7', 0);
  expect(
    t
      .committable()
      .map((p) => p.topic)
      .sort(),
  ).toEqual(['gone', 'kept']);
  t.forgetTopic('gone');
  t.add('kept', 0, '8', 0);
  // Kafka refuses a whole commit request that names a deleted topic: it must not be in it.
  expect(t.committable()).toEqual([{ topic: 'kept', partition: 0, offset: '9' }]);
  // Re-created: offset 0 is a new line, not one already dispatched.
  expect(t.seen('gone', 0, '0')).toBe(false);
  expect(t.seen('kept', 0, '8')).toBe(true);
});
