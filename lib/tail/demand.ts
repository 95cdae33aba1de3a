/**
 * Which topics this node's tail hub must read: those some session on this node needs now (its
 * history or its live lines), and for `lingerMs` after the last of them closed, so a client that
 * reconnects or opens the next session soon finds the topic still read (Loki's tailer and logplex
 * keep a channel a while after its last reader for the same reason). A topic nobody needs is not
 * read at all: the node's read volume follows its sessions, not the cluster's log volume.
 */
export class TopicDemand {
  private holders = new Map<string, number>();
  private lingering = new Map<string, NodeJS.Timeout>();

  constructor(
    private lingerMs: number,
    /** A topic stopped being wanted (its linger ran out): the reader re-lists its topics. */
    private onDropped: () => void,
  ) {}

  /** Whether the topic is wanted now: held by a session, or lingering. */
  wants(topic: string): boolean {
    return this.holders.has(topic) || this.lingering.has(topic);
  }

  /** Topics wanted now. */
  get topics(): string[] {
    return [...new Set([...this.holders.keys(), ...this.lingering.keys()])].sort();
  }

  /** Holds the topics until the returned release is called (once; later calls do nothing). */
  hold(topics: string[]): () => void {
    const held = [...new Set(topics)];
    for (const t of held) {
      const timer = this.lingering.get(t);
      if (timer) clearTimeout(timer);
      this.lingering.delete(t);
      this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const t of held) this.letGo(t);
    };
  }

  /** Forgets every hold and linger (the hub stopped). */
  clear(): void {
    for (const timer of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
    this.holders.clear();
  }

  private letGo(topic: string): void {
    const n = (this.holders.get(topic) ?? 1) - 1;
    if (n > 0) {
      this.holders.set(topic, n);
      return;
    }
    this.holders.delete(topic);
    const timer = setTimeout(() => {
      if (this.lingering.get(topic) !== timer) return;
      this.lingering.delete(topic);
      this.onDropped();
    }, this.lingerMs);
    timer.unref();
    this.lingering.set(topic, timer);
  }
}
