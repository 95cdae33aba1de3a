import { PartitionLedger, sendAcknowledged } from '../../lib/kafka/acks';

type Msg = { key: string; value: string; partition?: number };

/** A send as kafkajs does it: each message through the partitioner; `drop` partitions left out of the acks (the leader-change bug). */
function fakeProducer(ledger: PartitionLedger, drops: number[][]) {
  const partitioner = ledger.wrap((args: { message: Msg }) => args.message.partition ?? Number(args.message.key) % 3);
  const written: Msg[] = [];
  const calls: number[] = [];
  const send = async (messages: Msg[]) => {
    const drop = drops[calls.length] ?? [];
    calls.push(messages.length);
    const parts = new Set<number>();
    for (const message of messages) {
      const partition = partitioner({ message });
      if (drop.includes(partition)) continue;
      written.push({ ...message, partition });
      parts.add(partition);
    }
    return [...parts].map((partition) => ({ partition }));
  };
  return { send, written, calls };
}

const messages = (n: number): Msg[] => Array.from({ length: n }, (_, i) => ({ key: String(i), value: `line ${i}` }));

it('a send resolved without a partition is followed by a send of exactly that partition’s messages, to that partition', async () => {
  const ledger = new PartitionLedger();
  const p = fakeProducer(ledger, [[1]]);
  await sendAcknowledged(ledger, p.send, messages(9));
  expect(p.calls).toEqual([9, 3]);
  expect(p.written.map((m) => m.value).sort()).toEqual(
    messages(9)
      .map((m) => m.value)
      .sort(),
  );
  for (const m of p.written) expect(m.partition).toBe(Number(m.key) % 3);
});

it('a complete send is sent once', async () => {
  const ledger = new PartitionLedger();
  const p = fakeProducer(ledger, []);
  await sendAcknowledged(ledger, p.send, messages(6));
  expect(p.calls).toEqual([6]);
});

it('fails when the acknowledgements keep leaving messages out', async () => {
  const ledger = new PartitionLedger();
  const p = fakeProducer(
    ledger,
    Array.from({ length: 10 }, () => [2]),
  );
  await expect(sendAcknowledged(ledger, p.send, messages(6), 2)).rejects.toThrow('without 2 of its messages');
  expect(p.calls).toEqual([6, 2, 2]);
});
