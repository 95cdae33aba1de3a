/** Akkeris's names for a container's lines: its app and process type from the container name, its dyno from the pod name. */

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
