/**
 * Reading one Kafka message of a log topic (docs/design.md §2): the plain input the parsers take, the
 * result they answer, and what every parser shares (the value's text, its time, its position, a JSON
 * object, a failure). Pure: no kafkajs.
 */
import type { KafkaPosition, LogLine } from './line';
import { parseRfc3339 } from './time';

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

export type ParseFailure = Extract<ParseResult, { ok: false }>;

export function fail(kind: ParseFailureKind, reason: string): ParseFailure {
  return { ok: false, kind, reason };
}

export function valueText(value: Buffer | string | null): string | null {
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
export function lineTime(own: unknown, msg: KafkaMessageInput, now: Date): Date {
  return (typeof own === 'string' ? parseRfc3339(own) : null) ?? kafkaTime(msg.timestamp) ?? new Date(now.getTime());
}

export function positionOf(msg: KafkaMessageInput): KafkaPosition {
  return { topic: msg.topic, partition: msg.partition, offset: msg.offset };
}

export function parseJsonObject(text: string): Record<string, unknown> | ParseFailure {
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

export function isFailure(v: unknown): v is ParseFailure {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

export function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}
