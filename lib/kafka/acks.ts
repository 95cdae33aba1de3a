/**
 * Every message of a send acknowledged, or the send fails. kafkajs 2.2.4 can resolve a send with
 * part of it unwritten: when a partition's leader dies mid-send, its retry maps that partition to
 * its new leader, and if that broker already answered for other partitions of the same send, the
 * moved partition is skipped (producer/sendMessages keeps one response per broker). Seen in
 * spec/cluster/broker-death: 112 of 500 lines of one send missing from Kafka, the send resolved.
 *
 * The ledger wraps the producer's partitioner to learn each message's partition; a send whose
 * acknowledgements lack a partition is followed by a send of that partition's messages (to the
 * same partition, so a key keeps its order). No kafkajs import here: lib/kafka hands the parts in.
 */

export class PartitionLedger {
  private chosen = new WeakMap<object, number>();

  /** The partitioner kafkajs calls for every message of every attempt, recording its choice. */
  wrap<A extends { message: object }>(base: (args: A) => number): (args: A) => number {
    return (args) => {
      const partition = base(args);
      this.chosen.set(args.message, partition);
      return partition;
    };
  }

  /** Messages whose partition is not among the acknowledged ones, each pinned to that partition. */
  unacked<M extends object>(messages: M[], acked: { partition: number }[]): (M & { partition: number })[] {
    const ok = new Set(acked.map((a) => a.partition));
    const out: (M & { partition: number })[] = [];
    for (const m of messages) {
      const partition = this.chosen.get(m);
      if (partition === undefined) throw new Error('Kafka send: a message was never given a partition');
      if (!ok.has(partition)) out.push({ ...m, partition });
    }
    return out;
  }
}

/** Sends `messages`, then what the acknowledgements left out, up to `attempts` more times. */
export async function sendAcknowledged<M extends object>(
  ledger: PartitionLedger,
  send: (messages: M[]) => Promise<{ partition: number }[]>,
  messages: M[],
  attempts = 5,
): Promise<void> {
  let rest = messages;
  for (let i = 0; ; i++) {
    rest = ledger.unacked(rest, await send(rest));
    if (rest.length === 0) return;
    if (i >= attempts) throw new Error(`Kafka acknowledged a send without ${rest.length} of its messages`);
  }
}
