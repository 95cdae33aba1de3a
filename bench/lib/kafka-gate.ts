/**
 * A workload held back by Kafka itself: lines produced in a transaction left open, released at once by
 * its commit, and the wait for a consumer group to be in place before that.
 */
import { performance } from 'node:perf_hooks';
import { AssignerProtocol, CompressionTypes, Kafka as KafkaJs, logLevel as KafkaLogLevel, Partitioners } from 'kafkajs';
import { uniqueName } from '../../spec/helpers/env';
import { sleep } from './proc';

/**
 * Produces `lines` lines to `space` in one transaction, left open: a consumer reading committed sees none of
 * them until the returned commit() (kafkajs and librdkafka both read committed by default).
 */
export async function produceGated(
  broker: string,
  space: string,
  lines: number,
  message: (i: number) => { key: string; value: string },
): Promise<() => Promise<void>> {
  const started = performance.now();
  const kafka = new KafkaJs({ clientId: 'drains-bench', brokers: [broker], logLevel: KafkaLogLevel.NOTHING });
  const producer = kafka.producer({
    transactionalId: uniqueName('drains-bench-tx-'),
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 600_000,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const tx = await producer.transaction();
  const chunk = 1500; // a produce request stays under the broker's 1 MB limit
  for (let i = 0; i < lines; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(lines, i + chunk); j++) messages.push(message(j));
    await tx.send({ topic: space, acks: -1, compression: CompressionTypes.None, messages });
  }
  console.log(`produced ${lines} lines to ${space} in ${((performance.now() - started) / 1000).toFixed(1)} s, uncommitted`);
  return async () => {
    await tx.commit();
    await producer.disconnect();
  };
}

/** Waits until consumer group `groupId` is Stable with `members` members that hold all `partitions` partitions between them, each some. */
export async function waitForGroup(broker: string, groupId: string, members: number, partitions: number, timeoutMs = 180_000): Promise<void> {
  const kafka = new KafkaJs({ clientId: 'drains-bench-admin', brokers: [broker], logLevel: KafkaLogLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  try {
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      const held = (g?.members ?? []).map((m) => {
        const a = m.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
        return Object.values(a?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0);
      });
      seen = `${g?.state} with ${held.length} members holding ${held.join('+') || 0} partitions`;
      if (g?.state === 'Stable' && held.length === members && held.every((n) => n > 0) && held.reduce((a, b) => a + b, 0) === partitions) {
        console.log(`group ${groupId}: ${seen}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`group ${groupId}: ${seen} after ${timeoutMs} ms, want ${members} members`);
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}
