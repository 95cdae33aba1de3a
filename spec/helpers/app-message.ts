/** The Kafka message an app container's line becomes: fluentd JSON on its space's topic (docs/design.md §2). */

/** The pod-name suffix of the specs' dynos: `web.1562910588-cg82f`. */
export const POD = '1562910588-cg82f';

export interface AppMessageOptions {
  /** Process type (default `web`); other types run in container `<app>--<type>`. */
  type?: string;
  /** The whole pod name (default `<app>-<type>-<POD>`). */
  pod?: string;
  stream?: string;
}

/** `log` written by `app` in `space` at `time`, as fluentd sends it to the space's topic. */
export function appMessage(app: string, space: string, log: string, time = new Date(), o: AppMessageOptions = {}): string {
  const type = o.type ?? 'web';
  return JSON.stringify({
    log: `${log}\n`,
    stream: o.stream ?? 'stdout',
    time: time.toISOString(),
    docker: { container_id: '790e' },
    kubernetes: {
      namespace_name: space,
      pod_id: '5391',
      pod_name: o.pod ?? `${app}-${type}-${POD}`,
      container_name: type === 'web' ? app : `${app}--${type}`,
      labels: { name: app },
      host: 'ip-10-0-0-1',
    },
    topic: space,
    tag: 'x',
  });
}
