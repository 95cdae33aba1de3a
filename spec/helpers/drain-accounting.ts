/** Assertions over what drains delivered (specs only: benchmarks import drain-fixtures, which has no jest). */
import { tally, type ProducedLine } from './drain-fixtures';

/**
 * Produced = delivered + parked, exactly: every line that arrived or was parked was produced, and
 * none is missing. Resolves to the number of duplicate deliveries.
 */
export function expectAccountedFor(produced: ProducedLine[], delivered: string[], parked: string[]): number {
  const got = tally(delivered);
  const want = new Set(produced.map((p) => p.message));
  for (const m of [...got.keys(), ...parked]) expect(want.has(m)).toBe(true);
  expect(new Set([...got.keys(), ...parked]).size).toBe(produced.length);
  return delivered.length - got.size;
}
