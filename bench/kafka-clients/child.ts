/**
 * One measured run of one candidate, in its own process (so CPU and RSS are its own):
 *   node --import tsx bench/kafka-clients/child.ts <candidate> <topic> <expected> <from-json>
 * Reads the topic from the given offsets until `expected` messages were counted, JSON-parsing
 * every value, and prints one JSON line: wall seconds (connect included), steady seconds (first
 * message to last), CPU seconds of the whole process (all threads: librdkafka's count) and RSS.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { candidates, StartOffset, ValueBatch } from './candidates';

function statusKb(field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const [name, topic, expectedText, fromJson] = process.argv.slice(2);
  const make = candidates[name];
  if (!make) throw new Error(`unknown candidate ${name}; one of ${Object.keys(candidates).join(', ')}`);
  const expected = Number(expectedText);
  const from = JSON.parse(fromJson) as StartOffset[];
  const source = make({ broker: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', groupId: `_bench-kc-${name}-${crypto.randomBytes(4).toString('hex')}` });

  let count = 0;
  let parsed = 0;
  let malformed = 0;
  let firstAt = 0n;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const onBatch = (b: ValueBatch) => {
    if (firstAt === 0n) firstAt = process.hrtime.bigint();
    for (const v of b.values) {
      try {
        // What the log source does with every message: the value as text, then JSON.
        const o = JSON.parse(v === null ? '' : v.toString('utf8')) as { log?: unknown };
        if (o && typeof o.log === 'string') parsed++;
      } catch {
        malformed++;
      }
    }
    count += b.values.length;
    if (count >= expected) done();
  };

  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let failed: (e: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  await Promise.race([source.start(topic, from, onBatch, (e) => failed(e)), failure]);
  await Promise.race([finished, failure]);
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  const result = {
    candidate: name,
    count,
    parsed,
    malformed,
    wallS: Number(t1 - t0) / 1e9,
    steadyS: Number(t1 - firstAt) / 1e9,
    cpuS: (cpu.user + cpu.system) / 1e6,
    rssMb: statusKb('VmRSS') / 1024,
    peakRssMb: statusKb('VmHWM') / 1024,
  };
  // Give a late batch a moment to show a count above `expected` (a message handed over twice).
  await new Promise((r) => setTimeout(r, 300));
  result.count = count;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await Promise.race([source.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(0);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: (e as Error)?.message ?? String(e) })}\n`);
  process.exit(1);
});
