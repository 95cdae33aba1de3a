/** Structured JSON logs on stdout (pino). Children carry the request id and span fields. */
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Credentials that must never reach a log line, should an object holding them be logged whole
 * (a request's headers, a parsed URL, a driver's options). Request paths are kept out of the
 * access log by lib/http (it logs the route) since a logplex_url token is a path segment.
 */
const REDACT = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'sessionSecret',
  'sessionSecrets',
  'jwtSecret',
  'apiKeys',
  '*.sessionSecret',
  '*.sessionSecrets',
  '*.jwtSecret',
  '*.apiKeys',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'logway' }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
