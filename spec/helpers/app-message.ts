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

export interface ProducedMessage extends AppMessageOptions {
  log: string;
  time?: Date;
}

/** Strictly increasing line times: close to now, or one millisecond apart from `from` (epoch ms). */
export function increasingTimes(from?: number): () => Date {
  let last = (from ?? 0) - 1;
  return () => new Date((last = from === undefined ? Math.max(last + 1, Date.now()) : last + 1));
}

/**
 * Produces `app`'s lines to `space`'s topic (keyed by app, as fluentd does); resolves to them as
 * an Akkeris text session shows them. A line without a time gets the next of `nextTime`.
 */
export async function produceAppLines(
  kafka: { produce(topic: string, records: { key: string; value: string }[]): Promise<unknown> },
  space: string,
  app: string,
  msgs: (string | ProducedMessage)[],
  nextTime: () => Date,
): Promise<string[]> {
  const expected: string[] = [];
  const records = msgs.map((msg) => {
    const m = typeof msg === 'string' ? { log: msg } : msg;
    const t = m.time ?? nextTime();
    const type = m.type ?? 'web';
    const tag = m.pod?.startsWith('akkeris/') ? m.pod : `app[${type}.${m.pod ? m.pod.slice(`${app}-${type}-`.length) : POD}]`;
    expected.push(`${t.toISOString()} ${app}-${space} ${tag}: ${m.log}`);
    return { key: app, value: appMessage(app, space, m.log, t, m) };
  });
  await kafka.produce(space, records);
  return expected;
}
