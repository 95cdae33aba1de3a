/**
 * A line's renderings for the session streams (text, NDJSON, the SSE event body, the cursor entry it
 * moves a session to). The hub hands one line to many sessions in a row, so each is computed once per
 * line and shared.
 */
import type { LogLine } from '../log/line';
import { toAkkerisText, toNdjson, toSseEvent } from '../log/format';
import { positionKey } from './positions';

let lastLine: LogLine | undefined;
let lastText = '';
let lastTextLine = '';
function akkerisText(line: LogLine): string {
  if (line !== lastLine) {
    lastText = toAkkerisText(line);
    lastTextLine = `${lastText}\n`;
    lastLine = line;
  }
  return lastText;
}

/** The NDJSON record, shared the same way. */
let lastNdjsonLine: LogLine | undefined;
let lastNdjson = '';
export function ndjson(line: LogLine): string {
  if (line !== lastNdjsonLine) {
    lastNdjson = toNdjson(line);
    lastNdjsonLine = line;
  }
  return lastNdjson;
}

/** The text/plain form, newline included. */
export function akkerisTextLine(line: LogLine): string {
  akkerisText(line);
  return lastTextLine;
}

/** The SSE event without its id line (`data: ...\n\n`), also shared by all sessions of a line. */
let lastSseLine: LogLine | undefined;
let lastSseBody = '';
const EMPTY_ID_PREFIX = 'id: \n'.length;
export function sseBody(line: LogLine): string {
  if (line !== lastSseLine) {
    lastSseBody = toSseEvent('', akkerisText(line)).slice(EMPTY_ID_PREFIX);
    lastSseLine = line;
  }
  return lastSseBody;
}

/**
 * The cursor entry a line moves its session to (`topic:partition:nextOffset`) and its key, also
 * computed once per line for all the sessions it goes to.
 */
let lastPosLine: LogLine | undefined;
let lastPosKey = '';
let lastPosPart = '';
export function positionPart(line: LogLine): string {
  if (line !== lastPosLine) {
    lastPosKey = positionKey(line.position);
    lastPosPart = `${lastPosKey}:${Number(line.position.offset) + 1}`;
    lastPosLine = line;
  }
  return lastPosPart;
}

/** The key of the cursor entry positionPart gave for the same line. */
export function positionKeyOf(line: LogLine): string {
  positionPart(line);
  return lastPosKey;
}
