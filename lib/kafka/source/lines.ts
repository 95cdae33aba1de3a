/**
 * Kafka record → LogLine for the source's users, once per record (docs/design.md §2): parsing, the
 * malformed-message accounting (a counter by kind, one warn per kind) and app learning (the first
 * line of an app registers it), the same for the tail hub and the drain worker.
 */
import type { KafkaMessageInput, ParseFailureKind } from '../../log/parse';
import { parseKafkaMessage } from '../../log/parse';
import type { LogLine } from '../../log/line';
import type { Logger } from '../../logger';

export interface ParsedRecord {
  line: LogLine;
  /** The router line as the site shows it (lib/log/parse). */
  siteLine?: LogLine;
}

export interface LogLineReaderDeps {
  apps: { learn(appKey: string, onError?: (err: Error) => void): void };
  /** Malformed messages by kind (a prom-client Counter). */
  malformed: { inc(labels: { kind: ParseFailureKind }, value?: number): void };
  log: Logger;
}

export class LogLineReader {
  private warnedKinds = new Set<ParseFailureKind>();
  /** The parser's fallback time (a line with no usable time of its own): one Date set per record, which the parser copies and never keeps. */
  private readonly now = new Date(0);
  private readonly onLearnError: (err: Error) => void;

  constructor(private deps: LogLineReaderDeps) {
    this.onLearnError = (err) => this.deps.log.warn({ err: err.message }, 'could not register app; will retry');
  }

  /** The record's lines, or null when it is malformed (counted, and warned once per kind). */
  read(rec: KafkaMessageInput): ParsedRecord | null {
    this.now.setTime(Date.now());
    const parsed = parseKafkaMessage(rec, this.now);
    if (!parsed.ok) {
      this.deps.malformed.inc({ kind: parsed.kind });
      if (!this.warnedKinds.has(parsed.kind)) {
        this.warnedKinds.add(parsed.kind);
        this.deps.log.warn(
          { kind: parsed.kind, reason: parsed.reason, topic: rec.topic, partition: rec.partition, offset: rec.offset },
          'malformed log message skipped',
        );
      }
      return null;
    }
    // Apps are learned from the stream; the registry caches them, so only an app's first line costs a query.
    if (parsed.line.space !== '') this.deps.apps.learn(parsed.line.appKey, this.onLearnError);
    return parsed;
  }
}
