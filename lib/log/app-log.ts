/**
 * App container lines: fluentd JSON on the space's topic (docs/design.md §2 "App logs"), rendered as
 * akkeris/logshuttle does (shuttle/common.go).
 */
import { containerToProcess, dynoFromPod } from './dyno';
import { fail, isFailure, lineTime, nonEmptyString, parseJsonObject, positionOf, type KafkaMessageInput, type ParseResult } from './message';

export const SOURCE_APP = 'app';

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

/** Fluentd JSON from an app container on the space's topic (docs/design.md §2 "App logs"). */
export function parseAppLog(text: string, msg: KafkaMessageInput, now: Date): ParseResult {
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
