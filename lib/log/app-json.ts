/**
 * The hot path of parseKafkaMessage for app logs (fluentd JSON on a space topic): instead of
 * JSON.parse building the whole object (every field, `kubernetes.labels`, …) for the five values a
 * line needs, one pass over the text validates it as JSON and notes where `log`, `stream`, `time`
 * and `kubernetes.container_name` / `pod_name` are; only those become strings.
 *
 * Log messages are hostile: the scanner answers only when it is sure to give exactly what
 * parseKafkaMessage gives. The text must be valid JSON by the ECMAScript JSON grammar (checked in
 * full: strings, escapes, numbers, literals, nesting, nothing after the value), and duplicate keys
 * resolve as JSON.parse does (the last one wins). Anything else — a key written with an escape, a
 * field of the wrong type, a message that is not an object, a router or build topic — is handed to
 * parseKafkaMessage itself (spec/unit/log-app-json.spec.ts compares the two on generated input).
 */
import type { KafkaMessageInput, ParseResult } from './parse';
import { appLogFromObject, BUILD_TOPIC, isLogTopic, parseKafkaMessage, ROUTER_TOPIC } from './parse';

/** The fallback time of a line without a usable one: updated per call, copied by the parser (never kept). */
const NOW = new Date(0);

/** Parses one Kafka message of any log topic, exactly as parseKafkaMessage does. */
export function parseLogMessage(msg: KafkaMessageInput, now?: Date): ParseResult {
  const value = msg.value;
  if (value !== null && value !== undefined && msg.topic !== ROUTER_TOPIC && msg.topic !== BUILD_TOPIC && isLogTopic(msg.topic)) {
    const text = typeof value === 'string' ? value : value.toString('utf8');
    // `{` first: parse.ts's valueText hands the text on unchanged.
    if (text.charCodeAt(0) === 0x7b) {
      const fields = scanAppJson(text);
      if (fields !== null) {
        if (now === undefined) {
          NOW.setTime(Date.now());
          now = NOW;
        }
        return appLogFromObject(fields, msg, now);
      }
    }
  }
  return parseKafkaMessage(msg, now);
}

/** Whether the last string scanned had an escape. */
let escaped = false;

/** Index after the JSON whitespace (RFC 8259 ws: space, tab, LF, CR) at `i`. */
function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** `s[i]` is `"`: the index after the closing quote, or -1 if the string is not valid JSON. Sets `escaped`. */
function scanString(s: string, i: number): number {
  escaped = false;
  const n = s.length;
  i++;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      escaped = true;
      const e = s.charCodeAt(i + 1);
      if (e === 0x75) {
        if (!(isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)) && isHex(s.charCodeAt(i + 5)))) return -1;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
      i += 2;
      continue;
    }
    if (c < 0x20) return -1;
    i++;
  }
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A number at `i` (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`): the index after it, or -1. */
function scanNumber(s: string, i: number): number {
  if (s.charCodeAt(i) === 0x2d) i++;
  let c = s.charCodeAt(i);
  if (c === 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) {
    i++;
    while (isDigit(s.charCodeAt(i))) i++;
  } else return -1;
  if (s.charCodeAt(i) === 0x2e) {
    i++;
    if (!isDigit(s.charCodeAt(i))) return -1;
    while (isDigit(s.charCodeAt(i))) i++;
  }
  c = s.charCodeAt(i);
  if (c === 0x65 || c === 0x45) {
    i++;
    c = s.charCodeAt(i);
    if (c === 0x2b || c === 0x2d) i++;
    if (!isDigit(s.charCodeAt(i))) return -1;
    while (isDigit(s.charCodeAt(i))) i++;
  }
  return i;
}

function literalAt(s: string, i: number, word: string): number {
  return s.startsWith(word, i) ? i + word.length : -1;
}

/** A scalar (string, number, literal) at `i`: the index after it, or -1. */
function scanScalar(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return scanString(s, i);
  if (c === 0x74) return literalAt(s, i, 'true');
  if (c === 0x66) return literalAt(s, i, 'false');
  if (c === 0x6e) return literalAt(s, i, 'null');
  return scanNumber(s, i);
}

/**
 * Any JSON value at `i` (objects and arrays nested to any depth, without recursion): the index
 * after it, or -1.
 */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c !== 0x7b && c !== 0x5b) return scanScalar(s, i);
  // One entry per open container: true for an object.
  const stack: boolean[] = [];
  for (;;) {
    // At the start of a value.
    const v = s.charCodeAt(i);
    if (v === 0x7b || v === 0x5b) {
      const obj = v === 0x7b;
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === (obj ? 0x7d : 0x5d)) {
        i++; // empty container: a complete value
      } else {
        stack.push(obj);
        if (obj) {
          i = memberKey(s, i);
          if (i < 0) return -1;
        }
        continue;
      }
    } else {
      i = scanScalar(s, i);
      if (i < 0) return -1;
    }
    // After a complete value: `,` and the next one, or close containers.
    for (;;) {
      if (stack.length === 0) return i;
      i = skipWs(s, i);
      const d = s.charCodeAt(i);
      const obj = stack[stack.length - 1];
      if (d === 0x2c) {
        i = skipWs(s, i + 1);
        if (obj) {
          i = memberKey(s, i);
          if (i < 0) return -1;
        }
        break;
      }
      if (d !== (obj ? 0x7d : 0x5d)) return -1;
      stack.pop();
      i++;
    }
  }
}

/** `"key" :` at `i`, then whitespace: the index of the member's value, or -1. */
function memberKey(s: string, i: number): number {
  if (s.charCodeAt(i) !== 0x22) return -1;
  i = scanString(s, i);
  if (i < 0) return -1;
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x3a) return -1;
  return skipWs(s, i + 1);
}

/** The key `"…"` ending before `end` equals `name` (written without escapes). */
function keyIs(s: string, start: number, end: number, name: string): boolean {
  return end - start - 2 === name.length && s.startsWith(name, start + 1);
}

/** The string token [start, end) as JSON.parse reads it. */
function stringValue(s: string, start: number, end: number, hasEscape: boolean): string {
  if (!hasEscape) return s.slice(start + 1, end - 1);
  return JSON.parse(s.slice(start, end)) as string;
}

/**
 * The `log` string: fluentd's lines end in `\n`; a text whose one escape is that final `\n`
 * is read without a JSON.parse (its trailing whitespace is trimmed by the parser anyway, so the
 * text without it gives the same line).
 */
function logValue(s: string, start: number, end: number, hasEscape: boolean): string {
  if (hasEscape && s.charCodeAt(end - 3) === 0x5c && s.charCodeAt(end - 2) === 0x6e) {
    const body = s.slice(start + 1, end - 3);
    // An even run of backslashes before it would make that `\n` literal text; any backslash at all goes the slow way.
    if (body.indexOf('\\') < 0) return body;
  }
  return stringValue(s, start, end, hasEscape);
}

/** What an app line needs, as parse.ts's appLogFromObject reads it. */
type AppFields = {
  log: string;
  stream: string | undefined;
  time: string | undefined;
  kubernetes: { container_name: string; pod_name: string };
};

/** No string value seen for a field (absent, or its last value was not a string). */
const UNSET = -1;

/**
 * The fields of a fluentd app log, or null when the text is not exactly a valid JSON object whose
 * `log`, `kubernetes.container_name` and `kubernetes.pod_name` are strings (parseKafkaMessage then
 * decides what it is).
 */
export function scanAppJson(s: string): AppFields | null {
  let logStart = UNSET;
  let logEnd = 0;
  let logEsc = false;
  let streamStart = UNSET;
  let streamEnd = 0;
  let streamEsc = false;
  let timeStart = UNSET;
  let timeEnd = 0;
  let timeEsc = false;
  let k8s = false;
  let cStart = UNSET;
  let cEnd = 0;
  let cEsc = false;
  let pStart = UNSET;
  let pEnd = 0;
  let pEsc = false;

  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== 0x7b) return null;
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === 0x7d) return null; // {}: no fields
  for (;;) {
    // A member: "key" : value
    if (s.charCodeAt(i) !== 0x22) return null;
    const keyStart = i;
    i = scanString(s, i);
    if (i < 0 || escaped) return null;
    const keyEnd = i;
    i = skipWs(s, i);
    if (s.charCodeAt(i) !== 0x3a) return null;
    i = skipWs(s, i + 1);
    const v = s.charCodeAt(i);
    const isString = v === 0x22;
    const keyLen = keyEnd - keyStart - 2;
    if (keyLen === 3 && keyIs(s, keyStart, keyEnd, 'log')) {
      const end = skipValue(s, i);
      if (end < 0) return null;
      logStart = isString ? i : UNSET;
      logEnd = end;
      logEsc = escaped;
      i = end;
    } else if (keyLen === 6 && keyIs(s, keyStart, keyEnd, 'stream')) {
      const end = skipValue(s, i);
      if (end < 0) return null;
      streamStart = isString ? i : UNSET;
      streamEnd = end;
      streamEsc = escaped;
      i = end;
    } else if (keyLen === 4 && keyIs(s, keyStart, keyEnd, 'time')) {
      const end = skipValue(s, i);
      if (end < 0) return null;
      timeStart = isString ? i : UNSET;
      timeEnd = end;
      timeEsc = escaped;
      i = end;
    } else if (keyLen === 10 && keyIs(s, keyStart, keyEnd, 'kubernetes') && v === 0x7b) {
      // The last `kubernetes` wins, with only its own members.
      k8s = true;
      cStart = UNSET;
      pStart = UNSET;
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 0x7d) i++;
      else {
        for (;;) {
          if (s.charCodeAt(i) !== 0x22) return null;
          const ks = i;
          i = scanString(s, i);
          if (i < 0 || escaped) return null;
          const ke = i;
          i = skipWs(s, i);
          if (s.charCodeAt(i) !== 0x3a) return null;
          i = skipWs(s, i + 1);
          const str = s.charCodeAt(i) === 0x22;
          const end = skipValue(s, i);
          if (end < 0) return null;
          if (keyIs(s, ks, ke, 'container_name')) {
            cStart = str ? i : UNSET;
            cEnd = end;
            cEsc = escaped;
          } else if (keyIs(s, ks, ke, 'pod_name')) {
            pStart = str ? i : UNSET;
            pEnd = end;
            pEsc = escaped;
          }
          i = skipWs(s, end);
          const d = s.charCodeAt(i);
          if (d === 0x7d) {
            i++;
            break;
          }
          if (d !== 0x2c) return null;
          i = skipWs(s, i + 1);
        }
      }
    } else {
      if (keyLen === 10 && keyIs(s, keyStart, keyEnd, 'kubernetes')) k8s = false; // not an object
      i = skipValue(s, i);
      if (i < 0) return null;
    }
    i = skipWs(s, i);
    const d = s.charCodeAt(i);
    if (d === 0x7d) {
      i++;
      break;
    }
    if (d !== 0x2c) return null;
    i = skipWs(s, i + 1);
  }
  // Nothing but whitespace after the object.
  if (skipWs(s, i) !== s.length) return null;
  if (!k8s || logStart === UNSET || cStart === UNSET || pStart === UNSET) return null;
  return {
    log: logValue(s, logStart, logEnd, logEsc),
    stream: streamStart === UNSET ? undefined : stringValue(s, streamStart, streamEnd, streamEsc),
    time: timeStart === UNSET ? undefined : stringValue(s, timeStart, timeEnd, timeEsc),
    kubernetes: { container_name: stringValue(s, cStart, cEnd, cEsc), pod_name: stringValue(s, pStart, pEnd, pEsc) },
  };
}
