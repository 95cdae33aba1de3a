/** Which Kafka client errors mean the brokers cannot be reached, and the error logway answers with then. */
import { Unavailable } from '../errors';

/** kafkajs says each connection failure once per broker and retry: the dependency tracker says the outage once. */
export const CONNECTION_FAILURE =
  /connect(ion)? (error|timeout)|Failed to connect|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Closed connection|socket hang up|broker not connected|not connected/i;

const CONNECTION_ERRORS = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound']);

/** A failure to reach the brokers (not a refusal such as an unknown topic), looking through kafkajs's retry wrappers. */
export function isConnectionFailure(e: unknown): boolean {
  for (let err = e as { name?: string; message?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (CONNECTION_ERRORS.has(err.name ?? '') || CONNECTION_FAILURE.test(err.message ?? '') || /no answer within/.test(err.message ?? '')) return true;
    err = (err.originalError ?? err.cause) as typeof err;
  }
  return false;
}

/** Any client failure as logway's Unavailable('Kafka'). */
export function kafkaUnavailable(e: unknown): unknown {
  if (e instanceof Unavailable) return e;
  return new Unavailable('Kafka', (e as Error)?.message);
}
