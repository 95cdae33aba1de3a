/**
 * Platform events (POST /log-events): the Akkeris controller posts a fluentd-shaped LogSpec with
 * `kubernetes.pod_name` `akkeris/event` and `container_name` the app; logway produces it to the
 * space's topic, where log sessions and drains read it like any other line (logshuttle
 * logshuttle-server.go `CreateLogEvent`, controller-api lib/log-drains.js `event`).
 */
import type { Core, Feature } from './core';
import type { LogwayKafka } from './kafka';
import type { AppRegistry } from './apps';
import { BadRequest, Unprocessable } from './errors';
import { parseRfc3339 } from './log/time';
import { isLogTopic, BUILD_TOPIC, ROUTER_TOPIC } from './log/parse';

/** What logway produces: the LogSpec as Akkeris writes it, defaults filled in. */
export interface LogSpec {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
  docker: { container_id: string };
  kubernetes: {
    namespace_name: string;
    pod_id: string;
    pod_name: string;
    container_name: string;
    labels: { name: string };
    host: string;
  };
  topic: string;
  tag: string;
}

/** Kafka's legal topic names (kafka.common.internals.Topic): at most 249 of [a-zA-Z0-9._-]. */
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;
/** Akkeris app names: lower-case letters and digits, no `-` (the app key is `app-space`). */
const APP_RE = /^[a-z0-9]+$/;
/** Platform sources are `akkeris/<name>` (akkeris/event, akkeris/router, akkeris/build). */
const PLATFORM_POD_RE = /^akkeris\/[a-z0-9._-]+$/;
/** The event's text, as the drains' TCP line cap. */
export const MAX_LOG_BYTES = 100_000;
/** tag, docker.container_id and the kubernetes.* strings: real ones are tens of characters. */
export const MAX_EVENT_FIELD_LENGTH = 256;
/** Platform topics (docs/design.md §2): router and build logs, never a space. */
const PLATFORM_TOPICS: ReadonlySet<string> = new Set([ROUTER_TOPIC, BUILD_TOPIC]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';

/** Validates a POST /log-events body and fills Akkeris's defaults. Throws BadRequest (not an object) or Unprocessable. */
export function validateLogEvent(body: unknown, now: Date = new Date()): LogSpec {
  if (!isObject(body)) throw new BadRequest('The request body must be a JSON object (a LogSpec).');
  const k8s = body.kubernetes;
  if (!isObject(k8s)) throw new Unprocessable('The specified event has no "kubernetes" object.');
  const { container_name: app, pod_name: pod } = k8s;
  if (typeof app !== 'string' || app === '') throw new Unprocessable('The specified event has no "kubernetes.container_name" (the app).');
  if (!APP_RE.test(app)) throw new Unprocessable(`The specified "kubernetes.container_name" ${JSON.stringify(app)} is not a valid app name.`);
  if (typeof pod !== 'string' || pod === '') throw new Unprocessable('The specified event has no "kubernetes.pod_name" (e.g. "akkeris/event").');
  if (!PLATFORM_POD_RE.test(pod)) {
    throw new Unprocessable(`The specified "kubernetes.pod_name" ${JSON.stringify(pod)} is not a platform source (akkeris/<name>).`);
  }
  const topic = body.topic;
  if (typeof topic !== 'string' || topic === '') throw new Unprocessable('The specified event has no "topic" (the space).');
  if (!TOPIC_RE.test(topic) || !isLogTopic(topic)) {
    throw new Unprocessable(`The specified "topic" ${JSON.stringify(topic)} is not a valid space name.`);
  }
  if (PLATFORM_TOPICS.has(topic)) {
    throw new Unprocessable(`The specified "topic" ${JSON.stringify(topic)} is a platform topic, not a space.`);
  }
  if (typeof body.log !== 'string') throw new Unprocessable('The specified event has no "log" text.');
  if (body.log.trim() === '') throw new Unprocessable('The specified "log" text is empty.');
  if (Buffer.byteLength(body.log, 'utf8') > MAX_LOG_BYTES) {
    throw new Unprocessable(`The specified "log" text is larger than ${MAX_LOG_BYTES} bytes.`);
  }
  const stream = body.stream ?? 'stdout';
  if (stream !== 'stdout' && stream !== 'stderr') throw new Unprocessable('The specified "stream" must be "stdout" or "stderr".');
  let time = now.toISOString();
  if (body.time !== undefined && body.time !== '') {
    if (typeof body.time !== 'string' || !parseRfc3339(body.time)) {
      throw new Unprocessable('The specified "time" is not an RFC3339 date-time.');
    }
    time = body.time;
  }
  const docker = isObject(body.docker) ? body.docker : {};
  const labels = isObject(k8s.labels) ? k8s.labels : {};
  for (const [name, v] of [
    ['tag', body.tag],
    ['docker.container_id', docker.container_id],
    ['kubernetes.namespace_name', k8s.namespace_name],
    ['kubernetes.pod_id', k8s.pod_id],
    ['kubernetes.host', k8s.host],
    ['kubernetes.labels.name', labels.name],
    ['kubernetes.pod_name', pod],
    ['kubernetes.container_name', app],
  ] as const) {
    if (!optString(v)) throw new Unprocessable(`The specified "${name}" must be a string.`);
    if (v !== undefined && v.length > MAX_EVENT_FIELD_LENGTH) {
      throw new Unprocessable(`The specified "${name}" is longer than allowed (${MAX_EVENT_FIELD_LENGTH} characters is the maximum).`);
    }
  }
  return {
    log: body.log,
    stream,
    time,
    docker: { container_id: (docker.container_id as string | undefined) ?? '' },
    kubernetes: {
      namespace_name: (k8s.namespace_name as string | undefined) || topic,
      pod_id: (k8s.pod_id as string | undefined) ?? '',
      pod_name: pod,
      container_name: app,
      labels: { name: (labels.name as string | undefined) ?? '' },
      host: (k8s.host as string | undefined) ?? '',
    },
    topic,
    tag: (body.tag as string | undefined) ?? '',
  };
}

export const spaceNotFound = (space: string) => new Unprocessable(`The specified space ${space} does not exist.`);

/**
 * Which spaces exist (a space is its Kafka topic), from a briefly cached topic list: an event for
 * an unknown space must not create a topic (Kafka's auto-create would), and checking must not
 * cost a Kafka call per event. A cached list is trusted for `ttlMs`; a miss re-lists at once
 * (a space the platform just created is found) but at most once per `missRefreshMs`, so a
 * stream of events for unknown spaces costs Kafka one listing a second.
 */
export class SpaceTopics {
  private topics = new Set<string>();
  private fetchedAt = -Infinity;
  private listing?: Promise<void>;
  private readonly ttlMs: number;
  private readonly missRefreshMs: number;
  private readonly now: () => number;

  constructor(
    private kafka: Pick<LogwayKafka, 'listTopics'>,
    opts: { ttlMs?: number; missRefreshMs?: number; now?: () => number } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.missRefreshMs = opts.missRefreshMs ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  async has(topic: string): Promise<boolean> {
    const age = this.now() - this.fetchedAt;
    if (age < this.ttlMs && this.topics.has(topic)) return true;
    if (age >= this.ttlMs || age >= this.missRefreshMs || this.listing) await this.refresh();
    return this.topics.has(topic);
  }

  private refresh(): Promise<void> {
    this.listing ??= this.kafka
      .listTopics()
      .then((topics) => {
        this.topics = new Set(topics);
        this.fetchedAt = this.now();
      })
      .finally(() => (this.listing = undefined));
    return this.listing;
  }
}

/**
 * Registers the app and produces the event to the space's topic, which must exist (else 422:
 * no topic is created for it). Resolves only after the broker acknowledged the write (acks=-1:
 * every in-sync replica), so a 201 means the event is durable. Keyed by app key, so one app's
 * events keep their order on one partition.
 */
export async function publishLogEvent(deps: { kafka: LogwayKafka; apps: AppRegistry; spaces: SpaceTopics }, spec: LogSpec): Promise<void> {
  if (!(await deps.spaces.has(spec.topic))) throw spaceNotFound(spec.topic);
  const appKey = `${spec.kubernetes.container_name}-${spec.topic}`;
  await deps.apps.register(appKey);
  // A space deleted since the check is not re-created by the write either.
  await deps.kafka.produce(spec.topic, [{ key: appKey, value: JSON.stringify(spec) }], { autoCreateTopic: false });
}

/** The log-events slice: no background work, only the spaces its route checks (routes/log-events.ts, wired by bin/wiring.ts). */
export interface LogEventsFeature extends Feature {
  name: 'log-events';
  spaces: SpaceTopics;
}

export function createLogEventsFeature(core: Core): LogEventsFeature {
  return { name: 'log-events', spaces: new SpaceTopics(core.kafka) };
}
