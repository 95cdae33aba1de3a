/**
 * Jest's own order, or with JEST_SHUFFLE_SEED=<integer> the test files in a seeded shuffle, so an
 * order dependency between spec files shows up and the failing order can be run again.
 * Plain JavaScript (an ES module): jest loads a testSequencer before any transform.
 */
import process from 'node:process';
import TestSequencer from '@jest/test-sequencer';

const Sequencer = TestSequencer.default ?? TestSequencer;

/** mulberry32: a small seeded PRNG, so one seed is one order on every machine. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class ShuffleSequencer extends Sequencer {
  sort(tests) {
    const raw = process.env.JEST_SHUFFLE_SEED;
    if (raw === undefined || raw === '') return super.sort(tests);
    const seed = Number(raw);
    if (!Number.isInteger(seed)) throw new Error(`JEST_SHUFFLE_SEED must be an integer, not ${JSON.stringify(raw)}`);
    // Sorted by path first: the shuffle must not depend on the order jest found the files in.
    const order = [...tests].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const next = random(seed);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    process.stderr.write(`[jest] ${order.length} test files in the order of JEST_SHUFFLE_SEED=${seed}\n`);
    return order;
  }
}

export default ShuffleSequencer;
