/** The IPC messages between a node's drain supervisor (./supervisor) and its drain worker processes (./process). */
import type { MetricsJson } from '../lib/prom';
import type { Config } from '../lib/config';
import type { ConsumerStateName, PartitionQuarantine } from '../lib/dependencies';
import type { WorkerOptions } from './worker';

/** A topic pattern as it crosses the process boundary (a RegExp does not survive JSON). */
export type TopicSpec = string | { source: string; flags: string };

/** WorkerOptions that survive JSON: topics as specs, the TLS CA as text. */
export interface ProcessWorkerOptions extends Omit<WorkerOptions, 'topics' | 'tlsCa'> {
  topics?: TopicSpec[];
  tlsCa?: string;
}

/** What one drain looks like inside one worker process. */
export interface DrainState {
  depth: number;
  lastError: string;
}

export interface ConsumerReport {
  state: ConsumerStateName;
  crashes: number;
  error?: string;
}

export type ToWorker =
  | { type: 'start'; index: number; config: Omit<Config, 'tls'>; options: ProcessWorkerOptions }
  | { type: 'stop' }
  | { type: 'metrics'; id: number }
  | { type: 'drain'; id: number; drain: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'consumers'; consumers: Record<string, ConsumerReport>; quarantines?: PartitionQuarantine[] }
  | { type: 'metrics'; id: number; metrics: MetricsJson }
  | { type: 'drain'; id: number; state: DrainState | null };

export function toTopicSpecs(topics: (string | RegExp)[] | undefined): TopicSpec[] | undefined {
  return topics?.map((t) => (typeof t === 'string' ? t : { source: t.source, flags: t.flags }));
}

export function fromTopicSpecs(topics: TopicSpec[] | undefined): (string | RegExp)[] | undefined {
  return topics?.map((t) => (typeof t === 'string' ? t : new RegExp(t.source, t.flags)));
}
