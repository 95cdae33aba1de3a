/**
 * Kafka positions per topic-partition ("next offset to read"), and the SSE resume cursor that
 * encodes them. Offsets are kept as numbers: Kafka's int64 offsets stay below 2^53 in practice
 * (at a million messages a second that is 285 years of one partition).
 */
import type { KafkaPosition } from '../log/line';

export type Positions = Map<string, number>;

export const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

export function parseTpKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(':');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

export const positionKey = (p: KafkaPosition): string => tpKey(p.topic, p.partition);

/** Kafka topic names are [a-zA-Z0-9._-]; partitions and offsets are non-negative integers. */
const ENTRY = /^([a-zA-Z0-9._-]{1,249}):(\d{1,6}):(\d{1,16})$/;

/**
 * The SSE `id:` of a log session: `topic:partition:nextOffset` for every partition the session
 * reads, comma-separated (`space:0:1042,space:1:998,alamoweblogs:0:77`). Sent back as
 * `Last-Event-ID`, it says exactly where to resume. The offsets are not signed (the `~tag` after
 * them binds the id to its session, not to a position): the hub raises any position earlier than
 * the session's own start (TailHub.resumeFloor) and ignores partitions the session does not read.
 */
export function encodeCursor(positions: Positions): string {
  const parts: string[] = [];
  for (const [key, offset] of positions) parts.push(`${key}:${offset}`);
  return parts.join(',');
}

/** Null when the text is not a cursor this server wrote. */
export function decodeCursor(text: string | undefined): Positions | null {
  if (!text) return null;
  const out: Positions = new Map();
  for (const part of text.trim().split(',')) {
    const m = ENTRY.exec(part);
    if (!m) return null;
    const offset = Number(m[3]);
    if (!Number.isSafeInteger(offset)) return null;
    out.set(tpKey(m[1], Number(m[2])), offset);
  }
  return out.size > 0 ? out : null;
}
