/** The one internal log-line type: every path (tail, drains, builds) shares it; parsing happens once at the edge. */
export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface LogLine {
  /** When the line was emitted (from the message, else the Kafka timestamp). */
  time: Date;
  /** App name without the space, e.g. `api`. */
  app: string;
  space: string;
  /** `app-space`, the key Akkeris uses everywhere. */
  appKey: string;
  /** `app` for container output, else the platform source (`akkeris/router`, `akkeris/build`, `akkeris/event`). */
  source: string;
  /** `web.1562910588-cg82f`; empty for platform sources that have none. */
  dyno: string;
  processType: string;
  /** syslog severity: 3 (error) for stderr, 6 (info) otherwise. */
  severity: number;
  message: string;
  position: KafkaPosition;
}
