import type { components } from '../api-types';

/** A log line as the console holds it: the Akkeris text split once (docs/design.md §3 line format). */
export interface Line {
  /** SSE id (resume cursor) or '' for lines read as NDJSON. */
  id: string;
  text: string;
  /** epoch ms of the line's timestamp, NaN when the text does not start with one. */
  time: number;
  /** `app`, `akkeris/router`, ... */
  source: string;
  dyno: string;
  message: string;
  /** 'error' | 'warn' | '' (from NDJSON's syslog severity, else guessed from the message). */
  severity: string;
}

// `2018-03-24T01:07:20.123Z api-space app[web.1562910588-cg82f]: message` or `... akkeris/router: message`
const AKKERIS = /^(\S+) \S+ ([^\s[:]+)(?:\[([^\]]*)\])?: ([\s\S]*)$/;
const ERROR = /\b(at=error|level=(error|fatal|crit)|[Ee]rror L\d+|ERROR|FATAL|panic|Exception|Traceback)\b/;
const WARN = /\b(level=warn(ing)?|WARN(ING)?|deprecated)\b/;

export function guessSeverity(message: string): string {
  if (ERROR.test(message)) return 'error';
  if (WARN.test(message)) return 'warn';
  return '';
}

export function parseLine(id: string, text: string): Line {
  const m = AKKERIS.exec(text);
  if (!m) return { id, text, time: NaN, source: '', dyno: '', message: text, severity: guessSeverity(text) };
  return { id, text, time: Date.parse(m[1]), source: m[2], dyno: m[3] ?? '', message: m[4], severity: guessSeverity(m[4]) };
}

/**
 * What the console reads of an NDJSON record of the stream (`?format=json`) or a DLQ line: both are the
 * API's LogLineRecord. Severity is the syslog one (≤3 error, 4 warning).
 */
export type NdjsonRecord = Pick<
  components['schemas']['LogLineRecord'],
  'time' | 'app_key' | 'source' | 'dyno' | 'severity' | 'message' | 'kafka_topic' | 'kafka_partition' | 'kafka_offset'
>;

export function fromNdjson(r: NdjsonRecord): Line {
  const tag = r.dyno ? `${r.source}[${r.dyno}]` : r.source;
  const severity = r.severity <= 3 ? 'error' : r.severity === 4 ? 'warn' : guessSeverity(r.message);
  return {
    id: `${r.kafka_topic}:${r.kafka_partition}:${r.kafka_offset}`,
    text: `${r.time} ${r.app_key} ${tag}: ${r.message}`,
    time: Date.parse(r.time),
    source: r.source,
    dyno: r.dyno,
    message: r.message,
    severity,
  };
}

/** One of 8 colour classes per source or process type, stable across reloads. */
export function colourClass(key: string): string {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return `c${Math.abs(h) % 8}`;
}
