/** Structured JSON logs on stdout (pino). Children carry the request id and span fields. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'logway' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
