/** Drain fixtures of the cluster suite: apps with one TLS syslog drain each, lines produced, and the count at the sink and in the DLQ. */
import fs from 'node:fs';
import { Core } from '../../../lib/core';
import { DlqStore } from '../../../drains/dlq';
import { appLog } from '../../helpers/drain-fixtures';
import { Rsyslog } from '../../helpers/rsyslog';
import { makeTestCert, TestCert } from '../../helpers/test-cert';
import { clusterCore, LogwayNode, postJson } from './cluster';
import { waitFor } from '../../helpers/wait';

export interface DrainSetup {
  space: string;
  apps: string[];
  drainIds: string[];
}

export class Sink {
  cert: TestCert;
  rsyslog: Rsyslog;

  constructor() {
    this.cert = makeTestCert();
    this.rsyslog = new Rsyslog(this.cert);
  }

  async start(): Promise<void> {
    await this.rsyslog.start();
  }

  /** `syslog+tls` to the local rsyslogd; `#insecure` because the nodes do not know the test CA. */
  get url(): string {
    return `syslog+tls://127.0.0.1:${this.rsyslog.tlsPort}/#insecure`;
  }

  /** Messages received over TLS whose text starts with `tag ` (one file holds every scenario's lines). */
  delivered(tag: string): string[] {
    const prefix = `${tag} `;
    return this.rsyslog
      .parsed('tls')
      .map((p) => p.msg.trim())
      .filter((m) => m.startsWith(prefix));
  }

  async close(): Promise<void> {
    await this.rsyslog.stop();
    this.rsyslog.cleanup();
    fs.rmSync(this.cert.dir, { recursive: true, force: true });
  }
}

/** Registers `apps` in `space` (the shared database) and adds one drain each through `node`'s API. */
export async function addDrains(core: Core, nodeBase: string, space: string, apps: string[], url: string): Promise<string[]> {
  const ids: string[] = [];
  for (const app of apps) {
    const key = `${app}-${space}`;
    await core.apps.register(key);
    const res = await postJson(`${nodeBase}/apps/${key}/log-drains`, { url });
    if (res.status !== 201) throw new Error(`drain creation for ${key}: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(String(res.body.id));
  }
  return ids;
}

/**
 * Produces `count` lines round-robin over `apps` (3 pods each, keyed by pod as fluentd does, so
 * they spread over the partitions), message `<tag> <app> <seq>`. Returns the messages in order.
 */
export async function produceLines(
  core: Core,
  opts: { space: string; apps: string[]; tag: string; count: number; from?: number; chunk?: number; pauseMs?: number; onChunk?: (sent: number) => void },
): Promise<string[]> {
  const out: string[] = [];
  const chunk = opts.chunk ?? 1000;
  const from = opts.from ?? 0;
  let batch: { key: string; value: string }[] = [];
  for (let i = from; i < from + opts.count; i++) {
    const app = opts.apps[i % opts.apps.length];
    const pod = `1562910588-p${Math.floor(i / opts.apps.length) % 3}`;
    const message = `${opts.tag} ${app} ${i}`;
    out.push(message);
    batch.push({ key: `${app}-web-${pod}`, value: appLog(app, opts.space, pod, message) });
    if (batch.length === chunk) {
      await send(core, opts.space, batch);
      batch = [];
      opts.onChunk?.(out.length);
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  }
  if (batch.length) await send(core, opts.space, batch);
  opts.onChunk?.(out.length);
  return out;
}

/**
 * Through logway's idempotent producer (acks=all, the one POST /log-events uses; the topics exist):
 * a send retried by the client through a leader election is written once. A send refused outright
 * (the election outlasted the client's retries) is sent again, as fluentd would: those lines may
 * then be in Kafka twice, which counts as duplicates (kafkaMessages tells them apart).
 */
async function send(core: Core, topic: string, batch: { key: string; value: string }[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await core.kafka.produce(topic, batch, { autoCreateTopic: false });
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Parked lines of these drains (their messages), straight from the shared DLQ table. */
export async function parked(dlq: DlqStore, drainIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const drain of drainIds) {
    const { items } = await dlq.list({ drain }, 1_000_000);
    out.push(...items.map((i) => i.line.message));
  }
  return out;
}

export interface Tally {
  produced: number;
  delivered: number;
  unique: number;
  parked: number;
  duplicates: number;
  missing: number;
  unexpected: number;
}

/** produced = delivered (unique) + parked is the claim; duplicates are deliveries beyond the first. */
export function tallyLines(produced: string[], delivered: string[], parkedLines: string[]): Tally {
  const want = new Set(produced);
  const seen = new Set(delivered);
  const got = new Set([...delivered, ...parkedLines]);
  let missing = 0;
  for (const m of want) if (!got.has(m)) missing++;
  let unexpected = 0;
  for (const m of got) if (!want.has(m)) unexpected++;
  return {
    produced: want.size,
    delivered: seen.size,
    unique: got.size,
    parked: parkedLines.filter((m) => !seen.has(m)).length,
    duplicates: delivered.length - seen.size,
    missing,
    unexpected,
  };
}

/**
 * Rounds of probe lines (3 per app) until one round arrives whole: a drain reaches every node
 * within seconds of its creation (LISTEN/NOTIFY), and a line a node handles before it knows the
 * drain is not the drain's yet (docs/design.md §3), so the first round may miss a partition.
 */
export async function warmUp(core: Core, sink: Sink, space: string, apps: string[], timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; Date.now() < deadline; round++) {
    const tag = `probe${round}`;
    await produceLines(core, { space, apps, tag, count: apps.length * 3 });
    const until = Math.min(deadline, Date.now() + 15_000);
    while (Date.now() < until) {
      if (new Set(sink.delivered(tag)).size === apps.length * 3) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error('timed out waiting for a whole round of probes');
}

/**
 * What the drain specs of the cluster start from: a core, the DLQ, a started sink, the space with
 * 6 partitions, and (unless `startNodes` is false) the nodes started and ready.
 */
export async function startDrainScene(
  space: string,
  nodes: LogwayNode[],
  opts: { startNodes?: boolean } = {},
): Promise<{ core: Core; dlq: DlqStore; sink: Sink }> {
  const core = clusterCore();
  const dlq = new DlqStore(core.db, { maxRowsPerDrain: 1_000_000 });
  const sink = new Sink();
  await sink.start();
  await core.kafka.createTopic(space, 6);
  if (opts.startNodes !== false) {
    await Promise.all(nodes.map((n) => n.start()));
    for (const n of nodes) await waitFor(`${n.name} ready`, async () => (await n.ready()).status === 200, 60_000, 250);
  }
  return { core, dlq, sink };
}
