/** kafkajs's own log lines, through logway's logger and dependency tracker. */
import { logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from '../logger';
import type { DependencyTracker } from '../dependencies';
import { CONNECTION_FAILURE } from './failures';

/**
 * kafkajs lines that the dependency tracker already says (a consumer's crash and kafkajs restarting
 * it: `Kafka consumer crashed; restarting`, once per crash loop) or that are routine (a member told
 * to rejoin while its group rebalances, as every restart and every new drain process causes).
 */
const SAID_ELSEWHERE = /^(Crash: |Restarting the consumer in )|The group is rebalancing, so a rejoin is needed/;

/**
 * kafkajs's own log lines, mapped to our levels (its ERROR → warn, WARN → info, the rest debug;
 * connection failures and SAID_ELSEWHERE → debug, since the tracker says them) and rate-limited: at
 * most one line per distinct namespace+message per `windowMs`, the next one carrying how many were
 * suppressed.
 */
export function kafkaLogCreator(log: Logger, dependencies?: DependencyTracker, windowMs = 30_000, now: () => number = Date.now) {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return () =>
    ({ namespace, level, label, log: entry }: { namespace: string; level: number; label: string; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _ts, logger: _logger, ...extra } = entry;
      const text = `${message} ${String(extra.error ?? '')}`;
      const connection = level <= KafkaLogLevel.ERROR && CONNECTION_FAILURE.test(text);
      if (connection) dependencies?.down('kafka', `${message}${extra.error ? `: ${String(extra.error)}` : ''}`);
      const quiet = connection || SAID_ELSEWHERE.test(text);
      const fn = quiet ? 'debug' : level <= KafkaLogLevel.ERROR ? 'warn' : level === KafkaLogLevel.WARN ? 'info' : 'debug';
      if (!log.isLevelEnabled(fn)) return;
      const key = `${namespace}\u0000${message}`;
      const t = now();
      const last = seen.get(key);
      if (last && t - last.at < windowMs) {
        last.suppressed++;
        return;
      }
      seen.set(key, { at: t, suppressed: 0 });
      if (seen.size > 1000) for (const [k, v] of seen) if (t - v.at >= windowMs) seen.delete(k);
      log[fn]({ namespace, kafkaLevel: label, ...extra, ...(last?.suppressed ? { suppressed: last.suppressed } : {}) }, message);
    };
}
