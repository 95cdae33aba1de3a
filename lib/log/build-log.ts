/** Build output (`alamobuildlogs`): for the build-log store, and as `akkeris/build` lines for tails and drains. */
import { DEFAULT_SPACE, splitAppKey } from '../apps';
import {
  fail,
  isFailure,
  lineTime,
  nonEmptyString,
  parseJsonObject,
  positionOf,
  valueText,
  type KafkaMessageInput,
  type ParseFailure,
  type ParseResult,
} from './message';

export const SOURCE_BUILD = 'akkeris/build';

export type BuildStatus = 'queued' | 'pending' | 'succeeded' | 'failed';

export interface BuildMessage {
  buildId: string;
  job: string;
  /** The line, with `ARG NAME=value` build arguments redacted. */
  message: string;
  app: string;
  space: string;
  appKey: string;
  /** Set when this message ends (or explicitly states) the build's status. */
  status: BuildStatus | null;
}

export type BuildParseResult = { ok: true; build: BuildMessage } | ParseFailure;

/** Build arguments can hold secrets; Akkeris hides their values in build output. */
export function redactBuildArgs(message: string): string {
  return message.replace(/(Step \d+\/\d+ : ARG [0-9A-Za-z_]+=).*/g, '$1...');
}

const BUILD_STATUSES: readonly BuildStatus[] = ['queued', 'pending', 'succeeded', 'failed'];

function buildStatusOf(obj: Record<string, unknown>, message: string): BuildStatus | null {
  if (typeof obj.status === 'string' && (BUILD_STATUSES as readonly string[]).includes(obj.status)) {
    return obj.status as BuildStatus;
  }
  // Jenkins' last line. UNSTABLE, ABORTED and NOT_BUILT are failures for a deploy.
  const finished = /^Finished: ([A-Z_]+)\s*$/.exec(message.trim());
  if (!finished) return null;
  return finished[1] === 'SUCCESS' ? 'succeeded' : 'failed';
}

function buildFromObject(obj: Record<string, unknown>): BuildParseResult {
  const { build, job, metadata } = obj;
  const buildId = typeof build === 'number' ? String(build) : build;
  if (!nonEmptyString(buildId)) return fail('missing_fields', 'no build id');
  if (!nonEmptyString(metadata)) return fail('missing_fields', 'no metadata (app-space)');
  const parts = splitAppKey(metadata, { defaultSpace: DEFAULT_SPACE });
  if (!parts) return fail('missing_fields', `metadata ${metadata} names no app`);
  const { app, space } = parts;
  const raw = typeof obj.message === 'string' ? obj.message : '';
  const status = buildStatusOf(obj, raw);
  if (raw === '' && status === null && typeof obj.message !== 'string') {
    return fail('missing_fields', 'no message and no status');
  }
  return {
    ok: true,
    build: {
      buildId,
      job: typeof job === 'string' ? job : typeof job === 'number' ? String(job) : '',
      message: redactBuildArgs(raw.trimEnd()),
      app,
      space,
      appKey: `${app}-${space}`,
      status,
    },
  };
}

/** One `alamobuildlogs` message, for the build-log store. Never throws. */
export function parseBuildMessage(value: Buffer | string | null): BuildParseResult {
  const text = valueText(value);
  if (text === null) return fail('empty', 'message has no value');
  const obj = parseJsonObject(text);
  if (isFailure(obj)) return obj;
  return buildFromObject(obj);
}

/**
 * A build message as an `akkeris/build` line. A status-only message (no text) is shown as
 * `Build <status>` so tails and drains still see the build end.
 */
export function parseBuildLog(text: string, msg: KafkaMessageInput, now: Date): ParseResult {
  const obj = parseJsonObject(text);
  if (isFailure(obj)) return obj;
  const parsed = buildFromObject(obj);
  if (!parsed.ok) return parsed;
  const b = parsed.build;
  return {
    ok: true,
    line: {
      time: lineTime(obj.time, msg, now),
      app: b.app,
      space: b.space,
      appKey: b.appKey,
      source: SOURCE_BUILD,
      dyno: '',
      processType: '',
      severity: b.status === 'failed' ? 3 : 6,
      message: b.message === '' && b.status ? `Build ${b.status}` : b.message,
      position: positionOf(msg),
    },
  };
}
