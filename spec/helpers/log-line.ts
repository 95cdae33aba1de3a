/** LogLine values for specs that hand lines to logway's parts directly (no Kafka): one shape, changed where a spec cares. */
import type { LogLine } from '../../lib/log/line';

/** A stdout line of app `api` in space `space` from web.1, at offset 0 of partition 0; `over` replaces any field. */
export function logLine(over: Partial<LogLine> = {}): LogLine {
  return {
    time: new Date(Date.UTC(2026, 0, 1)),
    app: 'api',
    space: 'space',
    appKey: 'api-space',
    source: 'app',
    dyno: 'web.1',
    processType: 'web',
    severity: 6,
    message: 'm',
    position: { topic: 'space', partition: 0, offset: '0' },
    ...over,
  };
}

/** Line `i` of a numbered run: `i` ms into 2026, message `line <i>`, offset `i` on partition 0 (each part overridable). */
export function numberedLine(i: number, over: Partial<LogLine> = {}): LogLine {
  return logLine({
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)),
    message: `line ${i}`,
    position: { topic: 'space', partition: 0, offset: String(i) },
    ...over,
  });
}

/** A line of `appKey` (`app-space`) on its space's topic. */
export function appKeyLine(appKey: string, over: Partial<LogLine> = {}): LogLine {
  const [app, space] = appKey.split('-');
  return logLine({ app, space, appKey, position: { topic: space, partition: 0, offset: '1' }, ...over });
}
