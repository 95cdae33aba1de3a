/**
 * What logway's outside systems and Kafka consumers are doing, told as state changes (docs/design.md
 * "Operating logway itself"): one warn when a dependency goes away, naming what it affects, one
 * info when it is back, with how long it was gone. Requests and retries failing during an outage
 * say nothing more (lib/http logs their 503 at debug once the outage is known here).
 *
 * Who reports: the modules that own each client (lib/db, lib/influx, lib/kafka) on every
 * connection-level failure and on every success, and /health/ready's checks. A success is the
 * only way back up, so a dependency is "down" from its first connection failure until something
 * next talks to it successfully.
 */
import type { Logger } from './logger';
import type { Prom } from './prom';

export type DependencyName = 'kafka' | 'postgresql' | 'influxdb';
export const DEPENDENCIES: DependencyName[] = ['kafka', 'postgresql', 'influxdb'];

/** What stops working while a dependency is down (the warn line and /health/ready say it). */
export const AFFECTED: Record<DependencyName, string> = {
  kafka: 'log-session history and live tails, drain delivery, build-log storage, POST /log-events',
  influxdb: 'metrics API',
  postgresql: 'log drains API, drain retries and DLQ, builds store and results, app registry, log-session creation for apps not yet known',
};

/** The names Unavailable errors use (`new Unavailable('PostgreSQL', ...)`). */
const BY_ERROR_NAME: Record<string, DependencyName> = { kafka: 'kafka', postgresql: 'postgresql', influxdb: 'influxdb' };

export type ConsumerStateName = 'running' | 'crashed' | 'stopped';

export interface ConsumerState {
  state: ConsumerStateName;
  /** Crashes since it last made progress (a batch handled or an empty fetch). */
  crashes: number;
  /** Running: since when. Crashed or stopped: the first crash of this run without progress. */
  since: Date;
  error?: string;
  /**
   * Crashed or stopped and crash-looping by CRASH_LOOP's rule: not ready. False while running,
   * and after a crash that its restart (kafkajs, the log source, the drain supervisor) may still
   * recover from.
   */
  looping: boolean;
}

/**
 * When a crashed consumer counts as crash-looping (docs/design.md: a consumer crash-looping is not UP;
 * one crash that kafkajs or the source restarts from is not a loop). A consumer that crashed and
 * has made no progress since (no batch handled, no fetch completed) is crash-looping once
 * - it crashed `crashes` times in a row with no progress in between (a poison topic, a codec it
 *   cannot read: every restart crashes again within seconds), or
 * - its first crash of the run is `graceMs` old (a restart that never comes back: kafkajs gave up
 *   and nobody started it again, or it hangs). 30 s is the consumer group's session timeout: the
 *   time the group itself gives a silent member before handing its partitions to the others.
 * Before that it is restarting: /health/ready names it (DEGRADED, 200). A broker's death crashes
 * consumers on the dead connection once; kafkajs restarts them and they fetch again within the
 * election (measured ~6–15 s on the 3-broker cluster), so the node stays in the load balancer.
 */
export const CRASH_LOOP = { crashes: 3, graceMs: 30_000 };

interface Outage {
  since: number;
  detail?: string;
}

/**
 * A Kafka partition a consumer holds as poison (lib/kafka/source LogSource: every batch of it failed;
 * paused, nothing committed past it, the other partitions flowing), as /health/ready names it.
 * Plain data (times in epoch ms): it crosses the drain worker processes' IPC as it is.
 */
export interface PartitionQuarantine {
  /** The consumer holding it ('tail-hub', 'drains', 'builds'; `drains/<n>` for a drain worker process). */
  consumer: string;
  topic: string;
  partition: number;
  /** When it was first quarantined (kept while it is tried again and fails again). */
  since: number;
  /** The handler's error message: one line, at most REASON_MAX characters, never a stack. */
  reason: string;
  /** When it is tried again (past while `retrying`). */
  retryAt: number;
  /** Resumed at retryAt: listed until one of its batches goes through (or it fails into quarantine again). */
  retrying: boolean;
}

/** What a LogSource reports its quarantines to (the node's DependencyTracker). */
export type QuarantineReporter = Pick<DependencyTracker, 'partitionQuarantined' | 'partitionRetrying' | 'quarantineLifted' | 'quarantinesDropped'>;

/** The longest reason /health/ready gives for a quarantine (it is unauthenticated: a bounded single line). */
export const REASON_MAX = 200;

/**
 * A handler's error message as /health/ready may show it: its first line only (a message that
 * carries a stack has it on the next lines), control characters and URL credentials
 * (`scheme://user:secret@`) removed, cut at REASON_MAX characters.
 */
export function boundedReason(message: unknown): string {
  const first = String(message ?? '').split(/\r?\n/, 1)[0];
  const clean =
    first
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
      .trim() || 'failed';
  if (clean.length <= REASON_MAX) return clean;
  const cut = /[\ud800-\udbff]/.test(clean[REASON_MAX - 2]) ? REASON_MAX - 2 : REASON_MAX - 1;
  return `${clean.slice(0, cut)}…`;
}

const quarantineKey = (consumer: string, topic: string, partition: number) => `${consumer}\u0000${topic}\u0000${partition}`;

/** Errors whose outage the tracker has logged: lib/http logs their 503 quietly. */
const reported = new WeakSet<object>();

export function isReported(err: unknown): boolean {
  return typeof err === 'object' && err !== null && reported.has(err);
}

export class DependencyTracker {
  private outages = new Map<DependencyName, Outage>();
  /** When each dependency last came back (the `askedAt` rule below). */
  private backAt = new Map<DependencyName, number>();
  private consumers = new Map<string, ConsumerState>();
  /** This process's quarantined partitions, by consumer/topic/partition. */
  private held = new Map<string, PartitionQuarantine>();
  /** How long each was last quarantined for (ms): how long a retrying one waits for a batch. */
  private periods = new Map<string, number>();
  /** Quarantines other processes reported (the drain worker processes), by who reported them. */
  private mirrored = new Map<string, PartitionQuarantine[]>();
  private readonly log: Logger;

  constructor(
    logger: Logger,
    private prom?: Prom,
    private now: () => number = Date.now,
    private crashLoop: { crashes: number; graceMs: number } = CRASH_LOOP,
  ) {
    this.log = logger.child({ component: 'dependencies' });
    for (const d of DEPENDENCIES) this.prom?.dependencyUp.set({ dependency: d }, 1);
  }

  isUp(name: DependencyName): boolean {
    return !this.outages.has(name);
  }

  /** When the outage began, or undefined while up. */
  downSince(name: DependencyName): Date | undefined {
    const o = this.outages.get(name);
    return o ? new Date(o.since) : undefined;
  }

  /**
   * A connection-level failure. Logs (warn) only when the dependency was up until now.
   * `askedAt` (epoch ms): when the failed request was sent. A request sent before the dependency
   * last came back failed in the outage that ended: not a new one.
   */
  down(name: DependencyName, detail?: string, err?: unknown, askedAt?: number): void {
    if (err && typeof err === 'object') reported.add(err);
    if (this.outages.has(name)) return;
    const back = this.backAt.get(name);
    if (askedAt !== undefined && back !== undefined && askedAt < back) return;
    const since = this.now();
    this.outages.set(name, { since, detail });
    this.prom?.dependencyUp.set({ dependency: name }, 0);
    this.prom?.dependencyChanges.inc({ dependency: name, state: 'down' });
    this.log.warn(
      { dependency: name, since: new Date(since).toISOString(), affects: AFFECTED[name], detail },
      `${name} unreachable; affected: ${AFFECTED[name]}`,
    );
  }

  /**
   * Something talked to it successfully. Logs (info) only when it was down until now.
   * `askedAt` (epoch ms): when the answered request was sent. An answer to a request sent before
   * the outage began says nothing about now (a fetch answered just as the broker went away).
   */
  up(name: DependencyName, askedAt?: number): void {
    const o = this.outages.get(name);
    if (!o) return;
    if (askedAt !== undefined && askedAt < o.since) return;
    this.outages.delete(name);
    this.backAt.set(name, this.now());
    const downMs = Math.max(0, this.now() - o.since);
    this.prom?.dependencyUp.set({ dependency: name }, 1);
    this.prom?.dependencyChanges.inc({ dependency: name, state: 'up' });
    this.log.info(
      { dependency: name, down_since: new Date(o.since).toISOString(), down_ms: downMs, consumers_crashed: this.crashedConsumers().length },
      `${name} is back after ${formatDuration(downMs)}`,
    );
  }

  /** For an Unavailable error naming a dependency we track (by its `dependency` field): down(). */
  failed(err: unknown, askedAt?: number): void {
    const e = err as { dependency?: unknown; detail?: unknown; message?: unknown } | undefined;
    const name = typeof e?.dependency === 'string' ? BY_ERROR_NAME[e.dependency.toLowerCase()] : undefined;
    if (name) this.down(name, typeof e?.detail === 'string' ? e.detail : String(e?.message ?? ''), err, askedAt);
  }

  /**
   * A Kafka consumer crashed (kafkajs CRASH, or a drain worker process died). `restart` false:
   * kafkajs gave up (its owner may still start it again). Not running until it next makes
   * progress; crash-looping (not ready) by CRASH_LOOP's rule.
   */
  consumerCrashed(name: string, error: string, restart: boolean): void {
    const prev = this.consumers.get(name);
    const crashes = (prev?.state === 'running' || !prev ? 0 : prev.crashes) + 1;
    const state: ConsumerStateName = restart ? 'crashed' : 'stopped';
    const since = prev && prev.state !== 'running' ? prev.since : new Date(this.now());
    this.consumers.set(name, { state, crashes, since, error, looping: false });
    this.prom?.consumerUp.set({ consumer: name }, 0);
    const fields = { consumer: name, crashes, restart, error };
    // The first crash of a run, and every tenth after it: a crash loop is one line a few minutes, not one a minute.
    if (!restart) this.log.error(fields, 'Kafka consumer crashed and will not restart');
    else if (crashes === 1 || crashes % 10 === 0)
      this.log.warn(fields, crashes === 1 ? 'Kafka consumer crashed; restarting' : 'Kafka consumer still crash-looping');
  }

  /** The consumer handled a batch or completed an empty fetch. */
  consumerProgressed(name: string): void {
    const prev = this.consumers.get(name);
    if (prev?.state === 'running') return;
    this.consumers.set(name, { state: 'running', crashes: 0, since: new Date(this.now()), looping: false });
    this.prom?.consumerUp.set({ consumer: name }, 1);
    if (prev) this.log.info({ consumer: name, crashes: prev.crashes, down_ms: this.now() - prev.since.getTime() }, 'Kafka consumer running again');
  }

  /** The consumer was stopped on purpose (shutdown, a feature stopping): no longer reported. */
  consumerStopped(name: string): void {
    this.consumers.delete(name);
    this.prom?.consumerUp.remove({ consumer: name });
  }

  /** Each consumer's state now (`looping` is judged at the time of the call). */
  consumerStates(): Record<string, ConsumerState> {
    return Object.fromEntries([...this.consumers].map(([n, s]) => [n, { ...s, looping: this.isLooping(s) }]));
  }

  /** Consumers that crashed and have not made progress since (restarting or crash-looping). */
  crashedConsumers(): string[] {
    return [...this.consumers].filter(([, s]) => s.state !== 'running').map(([n]) => n);
  }

  /** Consumers crash-looping (CRASH_LOOP): the node is not ready while there is one. */
  loopingConsumers(): string[] {
    return [...this.consumers].filter(([, s]) => this.isLooping(s)).map(([n]) => n);
  }

  /** A LogSource quarantined a partition (it logged and counted it): /health/ready names it until it flows again. */
  partitionQuarantined(consumer: string, topic: string, partition: number, reason: string, retryAt: number): void {
    const key = quarantineKey(consumer, topic, partition);
    const since = this.held.get(key)?.since ?? this.now();
    this.held.set(key, { consumer, topic, partition, since, reason: boundedReason(reason), retryAt, retrying: false });
    this.periods.set(key, Math.max(1000, retryAt - this.now()));
  }

  /** Its quarantine time is over: resumed, still listed (as retrying) until a batch of it goes through. */
  partitionRetrying(consumer: string, topic: string, partition: number): void {
    const q = this.held.get(quarantineKey(consumer, topic, partition));
    if (q) q.retrying = true;
  }

  /** A batch of a quarantined (retrying) partition went through: it is no longer reported. */
  quarantineLifted(consumer: string, topic: string, partition: number): void {
    const key = quarantineKey(consumer, topic, partition);
    const q = this.held.get(key);
    if (!q) return;
    this.held.delete(key);
    this.periods.delete(key);
    this.log.info(
      { consumer, topic, partition, quarantined_since: new Date(q.since).toISOString(), held_ms: this.now() - q.since },
      'quarantined Kafka partition flows again',
    );
  }

  /** A consumer's quarantines on these topics (deleted), or all of them (it stopped), are no longer reported. */
  quarantinesDropped(consumer: string, topics?: string[]): void {
    for (const [key, q] of this.held) if (q.consumer === consumer && (!topics || topics.includes(q.topic))) this.drop(key);
  }

  /** What another process (`reporter`: a drain worker process) holds now, replacing what it reported before; [] forgets it. */
  mirrorQuarantines(reporter: string, quarantines: PartitionQuarantine[]): void {
    if (quarantines.length) this.mirrored.set(reporter, quarantines);
    else this.mirrored.delete(reporter);
  }

  /**
   * Every partition held as poison now, this process's and the mirrored ones, oldest first. A
   * retrying partition that has seen no batch for a whole quarantine period since it was resumed
   * is not read here any more (the group gave it to another member, which judges it itself): it
   * is dropped here.
   */
  quarantines(): PartitionQuarantine[] {
    const now = this.now();
    for (const [key, q] of this.held) if (q.retrying && now - q.retryAt >= (this.periods.get(key) ?? 0)) this.drop(key);
    return [...this.held.values(), ...[...this.mirrored.values()].flat()].map((q) => ({ ...q })).sort((a, b) => a.since - b.since);
  }

  private drop(key: string): void {
    this.held.delete(key);
    this.periods.delete(key);
  }

  private isLooping(s: ConsumerState): boolean {
    if (s.state === 'running') return false;
    return s.crashes >= this.crashLoop.crashes || this.now() - s.since.getTime() >= this.crashLoop.graceMs;
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
