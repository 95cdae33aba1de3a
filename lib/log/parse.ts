/**
 * Kafka message → LogLine, once, at the edge (docs/design.md §2). Pure: takes plain inputs, no kafkajs.
 * The Akkeris renderings follow akkeris/logshuttle (shuttle/common.go, shuttle/shuttle.go) so
 * lines look the same to `aka` users and to drains.
 */
import { parseAppLog } from './app-log';
import { parseBuildLog } from './build-log';
import { fail, valueText, type KafkaMessageInput, type ParseResult } from './message';
import { parseRouterLog } from './router-log';

export { SOURCE_APP, kubernetesToHumanReadable } from './app-log';
export { SOURCE_BUILD, parseBuildMessage, redactBuildArgs, type BuildMessage, type BuildParseResult, type BuildStatus } from './build-log';
export { containerToProcess, dynoFromPod } from './dyno';
export type { KafkaMessageInput, ParseFailureKind, ParseResult } from './message';
export { SOURCE_ROUTER } from './router-log';

export const ROUTER_TOPIC = 'alamoweblogs';
export const BUILD_TOPIC = 'alamobuildlogs';

/** Topics starting with `_` (`__consumer_offsets`, `_schemas`) are Kafka/platform internals. */
export function isLogTopic(topic: string): boolean {
  return topic.length > 0 && !topic.startsWith('_');
}

/**
 * Parses one Kafka message of any log topic. Never throws; a failure carries a `kind` to count
 * and log once per kind. `now` is the fallback time (injected for tests).
 */
export function parseKafkaMessage(msg: KafkaMessageInput, now: Date = new Date()): ParseResult {
  if (!isLogTopic(msg.topic)) return fail('internal_topic', `topic ${msg.topic} is internal`);
  const text = valueText(msg.value);
  if (text === null) return fail('empty', 'message has no value');
  if (msg.topic === ROUTER_TOPIC) return parseRouterLog(text, msg, now);
  if (msg.topic === BUILD_TOPIC) return parseBuildLog(text, msg, now);
  return parseAppLog(text, msg, now);
}
