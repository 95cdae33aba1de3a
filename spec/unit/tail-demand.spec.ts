/** lib/tail/demand: a topic is wanted while a session holds it and for the linger after the last one let go. */
import { TopicDemand } from '../../lib/tail/demand';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('holds a topic while any holder has it, then lingers before dropping it', () => {
  const dropped = jest.fn();
  const demand = new TopicDemand(60_000, dropped);
  const first = demand.hold(['space', 'router']);
  const second = demand.hold(['space']);
  expect(demand.topics).toEqual(['router', 'space']);

  first();
  first();
  expect(demand.wants('space')).toBe(true);
  expect(demand.wants('router')).toBe(true);
  jest.advanceTimersByTime(59_999);
  expect(demand.wants('router')).toBe(true);
  expect(dropped).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(demand.wants('router')).toBe(false);
  expect(demand.wants('space')).toBe(true);
  expect(dropped).toHaveBeenCalledTimes(1);

  second();
  jest.advanceTimersByTime(60_000);
  expect(demand.topics).toEqual([]);
  expect(dropped).toHaveBeenCalledTimes(2);
});

it('a hold during the linger keeps the topic, and the old linger does not drop it', () => {
  const dropped = jest.fn();
  const demand = new TopicDemand(1_000, dropped);
  demand.hold(['space'])();
  jest.advanceTimersByTime(500);
  const again = demand.hold(['space']);
  jest.advanceTimersByTime(5_000);
  expect(demand.wants('space')).toBe(true);
  expect(dropped).not.toHaveBeenCalled();
  again();
  jest.advanceTimersByTime(1_000);
  expect(demand.wants('space')).toBe(false);
  expect(dropped).toHaveBeenCalledTimes(1);
});

it('clear forgets holds and lingers without calling back', () => {
  const dropped = jest.fn();
  const demand = new TopicDemand(1_000, dropped);
  demand.hold(['a']);
  demand.hold(['b'])();
  demand.clear();
  jest.advanceTimersByTime(10_000);
  expect(demand.topics).toEqual([]);
  expect(dropped).not.toHaveBeenCalled();
});
