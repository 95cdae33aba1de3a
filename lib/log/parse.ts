/**
 * Kafka message → LogLine, once, at the edge (docs/design.md §2). Pure: takes plain inputs, no kafkajs.
 * The Akkeris renderings follow akkeris/logshuttle (shuttle/common.go, shuttle/shuttle.go) so
 * lines look the same to `aka` users and to drains.
 */
import type { KafkaPosition, LogLine } from './line';
import { parseRfc3339 } from './time';

export const ROUTER_TOPIC = 'alamoweblogs';
export const BUILD_TOPIC = 'alamobuildlogs';

export const SOURCE_APP = 'app';
export const SOURCE_ROUTER = 'akkeris/router';
export const SOURCE_BUILD = 'akkeris/build';

/** What kafkajs hands a consumer, reduced to plain values. */
export interface KafkaMessageInput {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch, as a string (kafkajs `message.timestamp`). */
  timestamp?: string;
  value: Buffer | string | null;
}

export type ParseFailureKind = 'empty' | 'bad_json' | 'missing_fields' | 'internal_topic';

export type ParseResult =
  | {
      ok: true;
      line: LogLine;
      /**
       * Router lines for a request that came through a site (`site_domain=`) are shown on the
       * site too, as Akkeris does: the same request rendered with `host=<site> path=<site_path>`,
       * with `appKey` = `app` = the site name and `space` empty.
       */
      siteLine?: LogLine;
    }
  | { ok: false; kind: ParseFailureKind; reason: string };

type Failure = Extract<ParseResult, { ok: false }>;

export type BuildStatus = 'queued' | 'pending' | 'succeeded' | 'failed';

export interface BuildMessage {
  buildId: string;
  job: string;
  /** The line, with `ARG NAME=value` build arguments redacted. */
  message: string;
  app: string;
  space: string;
  appKey: string;
  /** Set when this message ends (or explicitly states) the build's status. */
  status: BuildStatus | null;
}

export type BuildParseResult = { ok: true; build: BuildMessage } | Failure;

/** Topics starting with `_` (`__consumer_offsets`, `_schemas`) are Kafka/platform internals. */
export function isLogTopic(topic: string): boolean {
  return topic.length > 0 && !topic.startsWith('_');
}

/** `api-space` → `{app: 'api', space: 'space'}`; app names have no `-`, so split on the first. */
export function splitAppKey(appKey: string): { app: string; space: string } {
  const i = appKey.indexOf('-');
  // Akkeris quirk kept on purpose: a key without a space is an app in the `default` space.
  return i < 0 ? { app: appKey, space: 'default' } : { app: appKey.slice(0, i), space: appKey.slice(i + 1) };
}

/** `api--worker` → `{app: 'api', processType: 'worker'}`; no `--` means `web`. */
export function containerToProcess(containerName: string): { app: string; processType: string } {
  const i = containerName.indexOf('--');
  return i < 0 ? { app: containerName, processType: 'web' } : { app: containerName.slice(0, i), processType: containerName.slice(i + 2) };
}

/**
 * `type.` + the pod's unique suffix: `api-1562910588-cg82f`, `api-web-1562910588-cg82f` →
 * `web.1562910588-cg82f`; `api--worker-123-abc`, `api-worker-123-abc` → `worker.123-abc`.
 */
export function dynoFromPod(app: string, processType: string, podName: string): string {
  // The prefixes `app--type-`, `app-type-`, `app-`, in that order, matched in place (this runs
  // for every app line: no prefix strings are built).
  const n = podName.length;
  if (podName.startsWith(app)) {
    const a = app.length;
    let p = typed(podName, a, '--', processType);
    if (p < 0) p = typed(podName, a, '-', processType);
    if (p < 0 && podName.charCodeAt(a) === 45 && n > a + 1) p = a + 1;
    if (p >= 0) return `${processType}.${podName.slice(p)}`;
  }
  return `${processType}.${podName}`;
}

/** Where the pod's suffix starts if `sep` + `processType` + `-` follow position `at` (and more follows), else -1. */
function typed(podName: string, at: number, sep: string, processType: string): number {
  const t = at + sep.length;
  const end = t + processType.length + 1;
  return podName.startsWith(sep, at) && podName.startsWith(processType, t) && podName.charCodeAt(end - 1) === 45 && podName.length > end ? end : -1;
}

/**
 * Kubernetes pod-phase messages (emitted by the Akkeris platform into the app's stream) in the
 * words Akkeris shows users. The mapping is logshuttle's `KubernetesToHumanReadable`, except
 * that any exit code is reported (logshuttle's `[1-9]+` dropped zeros: 130 became 13).
 */
export function kubernetesToHumanReadable(message: string): string {
  if (!message.startsWith('Phase: ')) return message;
  if (message.startsWith('Phase: Creating -- ')) return 'Creating Dyno';
  if (message.startsWith('Phase: Pending/ --') || message.startsWith('Phase: Pending/waiting --')) {
    return 'Waiting on Dyno';
  }
  // e.g. `reason=CrashLoopBackOff message=Back-off 5m0s restarting failed container=...`
  if (message.startsWith('Phase: Running/waiting --')) return 'at=error code=H10 desc="App crashed"';
  if (message.startsWith('Phase: Running/running --')) return 'Checking Dyno Health';
  if (message.startsWith('Phase: Running/terminated --')) {
    const code = /exitCode=(\d+)/.exec(message);
    return code ? `Dyno exited (exit code ${code[1]})` : 'Dyno exited';
  }
  if (message.startsWith('Phase: Deleting -- pod')) return 'Deleting Dyno';
  return message;
}

/** Build arguments can hold secrets; Akkeris hides their values in build output. */
export function redactBuildArgs(message: string): string {
  return message.replace(/(Step \d+\/\d+ : ARG [0-9A-Za-z_]+=).*/g, '$1...');
}

function fail(kind: ParseFailureKind, reason: string): Failure {
  return { ok: false, kind, reason };
}

function valueText(value: Buffer | string | null): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : value.toString('utf8');
  // A printable ASCII first character (`{` for JSON) is never whitespace: no trim() copy then.
  const first = text.charCodeAt(0);
  if (first > 0x20 && first < 0x7f) return text;
  return text.trim() === '' ? null : text;
}

function kafkaTime(timestamp: string | undefined): Date | null {
  if (timestamp === undefined || !/^\d+$/.test(timestamp)) return null;
  const ms = Number(timestamp);
  // kafkajs reports -1 / 0 when the producer set no timestamp.
  return ms > 0 && Number.isSafeInteger(ms) ? new Date(ms) : null;
}

/** The message's own time if valid RFC3339, else the Kafka timestamp, else now. */
function lineTime(own: unknown, msg: KafkaMessageInput, now: Date): Date {
  return (typeof own === 'string' ? parseRfc3339(own) : null) ?? kafkaTime(msg.timestamp) ?? new Date(now.getTime());
}

function positionOf(msg: KafkaMessageInput): KafkaPosition {
  return { topic: msg.topic, partition: msg.partition, offset: msg.offset };
}

function parseJsonObject(text: string): Record<string, unknown> | Failure {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail('bad_json', `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('bad_json', 'JSON value is not an object');
  }
  return value as Record<string, unknown>;
}

function isFailure(v: unknown): v is Failure {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

/**
 * Parses one Kafka message of any log topic. Never throws; a failure carries a `kind` to count
 * and log once per kind. `now` is the fallback time (injected for tests).
 */
export function parseKafkaMessage(msg: KafkaMessageInput, now: Date = new Date()): ParseResult {
  if (!isLogTopic(msg.topic)) return fail('internal_topic', `topic ${msg.topic} is internal`);
  const text = valueText(msg.value);
  if (text === null) return fail('empty', 'message has no value');
  if (msg.topic === ROUTER_TOPIC) return parseRouterLog(text, msg, now);
  if (msg.topic === BUILD_TOPIC) return parseBuildLog(text, msg, now);
  return parseAppLog(text, msg, now);
}

/** What a container's lines share: its app, process type and app key, and the dyno of each of its pods. */
interface ContainerNames {
  app: string;
  processType: string;
  appKey: string;
  dynos: Map<string, string>;
}

/**
 * Per space topic, per container name: the strings every line of that container repeats, built
 * once and shared by all its lines (the hot path then allocates no app key or dyno per line, and
 * the tail rings hold one copy). Bounded: a map that grows past its cap (pods and containers churn)
 * is cleared and refilled.
 */
const containerCache = new Map<string, Map<string, ContainerNames>>();
const MAX_CACHED_TOPICS = 1000;
const MAX_CACHED_CONTAINERS = 10_000;
const MAX_CACHED_PODS = 256;

function containerNames(space: string, container: string): ContainerNames {
  let byContainer = containerCache.get(space);
  if (!byContainer) {
    if (containerCache.size >= MAX_CACHED_TOPICS) containerCache.clear();
    containerCache.set(space, (byContainer = new Map()));
  }
  let names = byContainer.get(container);
  if (!names) {
    const { app, processType } = containerToProcess(container);
    if (byContainer.size >= MAX_CACHED_CONTAINERS) byContainer.clear();
    names = { app, processType, appKey: `${app}-${space}`, dynos: new Map() };
    byContainer.set(container, names);
  }
  return names;
}

function dynoOf(names: ContainerNames, pod: string): string {
  let dyno = names.dynos.get(pod);
  if (dyno === undefined) {
    if (names.dynos.size >= MAX_CACHED_PODS) names.dynos.clear();
    dyno = dynoFromPod(names.app, names.processType, pod);
    names.dynos.set(pod, dyno);
  }
  return dyno;
}

/** Fluentd JSON from an app container on the space's topic (docs/design.md §2 "App logs"). */
function parseAppLog(text: string, msg: KafkaMessageInput, now: Date): ParseResult {
  const obj = parseJsonObject(text);
  if (isFailure(obj)) return obj;
  const k8s = obj.kubernetes;
  if (typeof k8s !== 'object' || k8s === null || Array.isArray(k8s)) {
    return fail('missing_fields', 'no kubernetes object');
  }
  const { container_name: container, pod_name: pod } = k8s as Record<string, unknown>;
  if (!nonEmptyString(container)) return fail('missing_fields', 'no kubernetes.container_name');
  if (!nonEmptyString(pod)) return fail('missing_fields', 'no kubernetes.pod_name');
  if (typeof obj.log !== 'string') return fail('missing_fields', 'no log text');

  const space = msg.topic;
  const names = containerNames(space, container);
  if (names.app === '') return fail('missing_fields', `container_name ${container} has no app`);
  const platform = pod.startsWith('akkeris/');
  return {
    ok: true,
    line: {
      time: lineTime(obj.time, msg, now),
      app: names.app,
      space,
      appKey: names.appKey,
      source: platform ? pod : SOURCE_APP,
      dyno: platform ? '' : dynoOf(names, pod),
      processType: platform ? '' : names.processType,
      severity: obj.stream === 'stderr' ? 3 : 6,
      message: kubernetesToHumanReadable(obj.log.trimEnd()),
      position: positionOf(msg),
    },
  };
}

/** Splits `k=v k2="quoted value"` on whitespace outside double quotes. */
function routerTokens(text: string): string[] {
  return text.match(/(?:[^\s"]|"(?:[^"\\]|\\.)*"?)+/g) ?? [];
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function decodeUriLoose(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

/**
 * Router access lines (`alamoweblogs`): raw `k=v` text. As logshuttle renders them: `hostname`,
 * `path`, `site_domain`, `site_path` and `timestamp` are taken out, `source=` becomes
 * `fwd="<unescaped>"`, every other pair is kept in order, then ` host=<app-space> path=<path>`
 * is appended. Tokens that are not `k=v` are kept as they are.
 */
function parseRouterLog(text: string, msg: KafkaMessageInput, now: Date): ParseResult {
  const kept: string[] = [];
  let hostname = '';
  let path = '';
  let site = '';
  let sitePath = '';
  let timestamp: string | undefined;
  for (const token of routerTokens(text)) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      kept.push(token);
      continue;
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    switch (key) {
      case 'hostname':
        hostname = unquote(value);
        break;
      case 'path':
        path = value;
        break;
      case 'site_domain':
        site = unquote(value);
        break;
      case 'site_path':
        sitePath = value;
        break;
      case 'timestamp':
        timestamp = unquote(value);
        break;
      case 'source':
        kept.push(`fwd="${decodeUriLoose(unquote(value).trim())}"`);
        break;
      default:
        kept.push(token);
    }
  }
  if (hostname === '') return fail('missing_fields', 'router line has no hostname=');
  const { app, space } = splitAppKey(hostname.split('.')[0]);
  if (app === '' || space === '') return fail('missing_fields', `hostname ${hostname} names no app`);

  const base = kept.join(' ');
  const prefix = base === '' ? '' : `${base} `;
  const time = lineTime(timestamp, msg, now);
  const appKey = `${app}-${space}`;
  const common = { time, source: SOURCE_ROUTER, dyno: '', processType: '', severity: 6, position: positionOf(msg) };
  const result: ParseResult = {
    ok: true,
    line: { ...common, app, space, appKey, message: `${prefix}host=${appKey} path=${path}` },
  };
  if (site !== '') {
    result.siteLine = {
      ...common,
      time: new Date(time.getTime()),
      position: positionOf(msg),
      app: site,
      space: '',
      appKey: site,
      message: `${prefix}host=${site} path=${sitePath}`,
    };
  }
  return result;
}

const BUILD_STATUSES: readonly BuildStatus[] = ['queued', 'pending', 'succeeded', 'failed'];

function buildStatusOf(obj: Record<string, unknown>, message: string): BuildStatus | null {
  if (typeof obj.status === 'string' && (BUILD_STATUSES as readonly string[]).includes(obj.status)) {
    return obj.status as BuildStatus;
  }
  // Jenkins' last line. UNSTABLE, ABORTED and NOT_BUILT are failures for a deploy.
  const finished = /^Finished: ([A-Z_]+)\s*$/.exec(message.trim());
  if (!finished) return null;
  return finished[1] === 'SUCCESS' ? 'succeeded' : 'failed';
}

function buildFromObject(obj: Record<string, unknown>): BuildParseResult {
  const { build, job, metadata } = obj;
  const buildId = typeof build === 'number' ? String(build) : build;
  if (!nonEmptyString(buildId)) return fail('missing_fields', 'no build id');
  if (!nonEmptyString(metadata)) return fail('missing_fields', 'no metadata (app-space)');
  const { app, space } = splitAppKey(metadata);
  if (app === '' || space === '') return fail('missing_fields', `metadata ${metadata} names no app`);
  const raw = typeof obj.message === 'string' ? obj.message : '';
  const status = buildStatusOf(obj, raw);
  if (raw === '' && status === null && typeof obj.message !== 'string') {
    return fail('missing_fields', 'no message and no status');
  }
  return {
    ok: true,
    build: {
      buildId,
      job: typeof job === 'string' ? job : typeof job === 'number' ? String(job) : '',
      message: redactBuildArgs(raw.trimEnd()),
      app,
      space,
      appKey: `${app}-${space}`,
      status,
    },
  };
}

/** One `alamobuildlogs` message, for the build-log store. Never throws. */
export function parseBuildMessage(value: Buffer | string | null): BuildParseResult {
  const text = valueText(value);
  if (text === null) return fail('empty', 'message has no value');
  const obj = parseJsonObject(text);
  if (isFailure(obj)) return obj;
  return buildFromObject(obj);
}

/**
 * A build message as an `akkeris/build` line. A status-only message (no text) is shown as
 * `Build <status>` so tails and drains still see the build end.
 */
function parseBuildLog(text: string, msg: KafkaMessageInput, now: Date): ParseResult {
  const obj = parseJsonObject(text);
  if (isFailure(obj)) return obj;
  const parsed = buildFromObject(obj);
  if (!parsed.ok) return parsed;
  const b = parsed.build;
  return {
    ok: true,
    line: {
      time: lineTime(obj.time, msg, now),
      app: b.app,
      space: b.space,
      appKey: b.appKey,
      source: SOURCE_BUILD,
      dyno: '',
      processType: '',
      severity: b.status === 'failed' ? 3 : 6,
      message: b.message === '' && b.status ? `Build ${b.status}` : b.message,
      position: positionOf(msg),
    },
  };
}
