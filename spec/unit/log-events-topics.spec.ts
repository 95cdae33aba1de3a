/** The topic cache behind POST /log-events: which spaces exist, without a Kafka call per event. */
import { SpaceTopics } from '../../lib/events';

function fakeKafka(initial: string[]) {
  const state = { topics: initial, calls: 0 };
  return { state, kafka: { listTopics: async () => (state.calls++, [...state.topics]) } };
}

describe('SpaceTopics', () => {
  it('answers from the cached list while it is fresh', async () => {
    const { state, kafka } = fakeKafka(['space1']);
    let now = 0;
    const topics = new SpaceTopics(kafka, { ttlMs: 10_000, missRefreshMs: 1_000, now: () => now });
    expect(await topics.has('space1')).toBe(true);
    now = 9_000;
    expect(await topics.has('space1')).toBe(true);
    expect(state.calls).toBe(1);
    // Past the TTL the list is read again: a deleted space is refused from then on.
    state.topics = [];
    now = 10_000;
    expect(await topics.has('space1')).toBe(false);
    expect(state.calls).toBe(2);
  });

  it('a miss re-lists at most once per missRefreshMs, so unknown spaces cannot hammer Kafka', async () => {
    const { state, kafka } = fakeKafka(['space1']);
    let now = 0;
    const topics = new SpaceTopics(kafka, { ttlMs: 10_000, missRefreshMs: 1_000, now: () => now });
    expect(await topics.has('space1')).toBe(true);
    now = 500;
    for (let i = 0; i < 20; i++) expect(await topics.has(`nope${i}`)).toBe(false);
    expect(state.calls).toBe(1);
    // A space created since: found on the first miss after the interval.
    state.topics = ['space1', 'space2'];
    now = 1_000;
    expect(await topics.has('space2')).toBe(true);
    expect(state.calls).toBe(2);
  });

  it('concurrent lookups share one listing', async () => {
    const { state, kafka } = fakeKafka(['space1']);
    const topics = new SpaceTopics(kafka, { ttlMs: 10_000, missRefreshMs: 1_000, now: () => 0 });
    expect(await Promise.all([topics.has('space1'), topics.has('space1'), topics.has('x')])).toEqual([true, true, false]);
    expect(state.calls).toBe(1);
  });
});
