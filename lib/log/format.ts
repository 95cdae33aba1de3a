/** LogLine → the bytes clients and drains see: Akkeris text, SSE, NDJSON, RFC5424 + RFC6587 framing. */
import type { LogLine } from './line';
import { DEFAULT_SPACE, splitAppKey } from '../apps';

/** Milliseconds, `Z`: `2018-03-24T01:07:20.123Z`. */
function isoTime(time: Date): string {
  // Consecutive lines (a Kafka batch; one line rendered for many sessions or drains) mostly
  // share their millisecond: render each distinct instant once.
  const ms = time.getTime();
  if (ms !== lastIsoMs) {
    lastIso = time.toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}
let lastIsoMs = NaN;
let lastIso = '';

/** `app[web.1562910588-cg82f]`, `akkeris/router`, or `source[dyno]` if a platform line has a dyno. */
function sourceTag(line: LogLine): string {
  return line.dyno === '' ? line.source : `${line.source}[${line.dyno}]`;
}

/**
 * The Akkeris session line, without a trailing newline (callers add `\n` for text/plain; SSE
 * carries it in `data:`):
 * `2018-03-24T01:07:20.123Z api-space app[web.1562910588-cg82f]: message`.
 *
 * A message's line breaks (LF, CRLF) never start a line another prefix could claim: each physical
 * line repeats this line's own prefix, as Heroku prints each line a dyno writes with its own
 * prefix. Every other C0 control but tab (a lone CR too), DEL and the C1 controls become visible
 * `\xHH` text, so a line cannot drive the reader's terminal; the prefix's fields get the same
 * treatment (docs/log-sessions.md "Lines are lines").
 */
export function toAkkerisText(line: LogLine): string {
  const prefix = `${isoTime(line.time)} ${visibleControls(line.appKey)} ${visibleControls(sourceTag(line))}: `;
  const message = line.message;
  if (!TEXT_UNSAFE.test(message)) return prefix + message;
  const lines = message.split(LINE_BREAK);
  let out = prefix + visibleControls(lines[0]);
  for (let i = 1; i < lines.length; i++) out += `\n${prefix}${visibleControls(lines[i])}`;
  return out;
}

/** C0 controls but tab, DEL and C1 (U+0080–U+009F): what a terminal may act on. */
const TEXT_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
const LINE_BREAK = /\r?\n/;

/** `\x1b`: a control character as text a terminal only prints. */
function controlEscape(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * The text with every C0 control but tab, DEL and C1 control replaced by its `\xHH` escape (line
 * breaks included): safe to print on a terminal and a single line.
 */
export function visibleControls(text: string): string {
  return TEXT_UNSAFE.test(text) ? text.replace(CONTROLS, controlEscape) : text;
}

/**
 * One NDJSON record, newline included. Field names (snake_case, stable wire contract):
 * `time` (ISO 8601, ms, Z), `app`, `space`, `app_key`, `source`, `dyno` ("" when none),
 * `process_type` ("" for platform sources), `severity` (syslog 0-7), `message`,
 * `kafka_topic`, `kafka_partition` (number), `kafka_offset` (string: Kafka offsets are int64).
 */
export function ndjsonRecord(line: LogLine) {
  return {
    time: isoTime(line.time),
    app: line.app,
    space: line.space,
    app_key: line.appKey,
    source: line.source,
    dyno: line.dyno,
    process_type: line.processType,
    severity: line.severity,
    message: line.message,
    kafka_topic: line.position.topic,
    kafka_partition: line.position.partition,
    kafka_offset: line.position.offset,
  };
}

/**
 * JSON escapes C0 controls but leaves DEL and C1 (U+0080–U+009F, where U+009B is a CSI to some
 * terminals) raw: escape them too, so `curl ?format=json` on a terminal is as harmless as text.
 */
export function toNdjson(line: LogLine): string {
  const json = JSON.stringify(ndjsonRecord(line));
  return `${JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_ALL, jsonEscape) : json}\n`;
}

const JSON_UNSAFE = /[\x7f-\x9f]/;
const JSON_UNSAFE_ALL = /[\x7f-\x9f]/g;

function jsonEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * One SSE event (HTML Living Standard §9.2.6): `id:` then one `data:` field per line of `data`
 * (CR, LF and CRLF all end a line), then a blank line. CR/LF/NUL are removed from the id, which
 * must be a single line (an id containing NUL is ignored by browsers).
 */
export function toSseEvent(id: string, data: string): string {
  const cleanId = /[\r\n\0]/.test(id) ? id.replace(/[\r\n\0]/g, '') : id;
  // The usual case, one line: no split/map/join.
  if (data.indexOf('\n') < 0 && data.indexOf('\r') < 0) return `id: ${cleanId}\ndata: ${data}\n\n`;
  const dataLines = data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}\n`)
    .join('');
  return `id: ${cleanId}\n${dataLines}\n`;
}

/** An SSE comment (`: keepalive`), one `:` line per line of text; dispatches no event. */
export function sseComment(text: string): string {
  return `${text
    .split(/\r\n|\r|\n/)
    .map((l) => `: ${l}\n`)
    .join('')}\n`;
}

/** The SSE reconnection-time hint, in whole milliseconds. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** RFC5424 §6: header fields are NILVALUE (`-`) or 1*N PRINTUSASCII (%d33-126). */
function headerField(value: string, maxLength: number): string {
  if (value.length <= maxLength && isPrintUsAscii(value)) return value === '' ? '-' : value;
  const printable = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return printable === '' ? '-' : printable;
}

function isPrintUsAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** `app` for container output; `akkeris` for `akkeris/router` (the part before `/`). */
function syslogAppName(line: LogLine): string {
  const slash = line.source.indexOf('/');
  return slash < 0 ? line.source : line.source.slice(0, slash);
}

/** The dyno, else the platform source's part after `/` (`router`, `build`), else NILVALUE. */
function syslogProcId(line: LogLine): string {
  if (line.dyno !== '') return line.dyno;
  const slash = line.source.indexOf('/');
  return slash < 0 ? '' : line.source.slice(slash + 1);
}

export interface Rfc5424Options {
  /** The drain token (app key or site), RFC5424 HOSTNAME. */
  hostname: string;
}

/**
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG` (RFC5424 §6), facility user (1), so
 * PRI = 8 + severity. MSGID and STRUCTURED-DATA are NILVALUE. MSG is sent without a BOM
 * (MSG-ANY), as Heroku's logplex does; receivers read it as UTF-8.
 */
export function toRfc5424(line: LogLine, opts: Rfc5424Options): string {
  const severity = Math.min(7, Math.max(0, Math.trunc(line.severity)));
  const pri = 1 * 8 + severity;
  const hostname = headerField(opts.hostname, 255);
  const appName = headerField(syslogAppName(line), 48);
  const procId = headerField(syslogProcId(line), 128);
  return `<${pri}>1 ${isoTime(line.time)} ${hostname} ${appName} ${procId} - - ${line.message}`;
}

function toBuffer(msg: string | Buffer): Buffer {
  return typeof msg === 'string' ? Buffer.from(msg, 'utf8') : msg;
}

/** RFC6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN in bytes. */
export function frameOctetCounted(msg: string | Buffer): Buffer {
  const body = toBuffer(msg);
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * RFC6587 §3.4.2 non-transparent framing with LF as trailer. A tenant's log line must not end the
 * frame early and forge a message of its own, nor carry a NUL or a VT/FF some receivers also treat
 * as a trailer: CR, LF, CRLF and every other C0 control but tab (and DEL) become one space
 * (RFC5424 §8.2 lets a sender change control characters; octet counting carries them untouched).
 */
export function frameNewline(msg: string | Buffer): Buffer {
  const text = typeof msg === 'string' ? msg : msg.toString('utf8');
  return Buffer.from(`${newlineSafe(text)}\n`, 'utf8');
}

const NEWLINE_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/;
const NEWLINE_UNSAFE_ALL = /\r\n|[\x00-\x08\x0a-\x1f\x7f]/g;

/** The message with what would break newline framing replaced (see frameNewline); the same length or shorter. */
export function newlineSafe(text: string): string {
  return NEWLINE_UNSAFE.test(text) ? text.replace(NEWLINE_UNSAFE_ALL, ' ') : text;
}

/**
 * The longest prefix of `str` that is at most `maxBytes` bytes of UTF-8, never cutting a
 * multi-byte sequence (used for the 1024-byte UDP and 100,000-byte TCP caps).
 */
export function truncateUtf8(str: string, maxBytes: number): string {
  const limit = Math.max(0, Math.floor(maxBytes));
  const buf = Buffer.from(str, 'utf8');
  if (buf.length <= limit) return str;
  let cut = limit;
  // Back up over continuation bytes (10xxxxxx) so the cut lands on a sequence start.
  while (cut > 0 && (buf[cut] & 0xc0) === 0x80) cut--;
  return buf.subarray(0, cut).toString('utf8');
}

/** Source of lines logway itself writes into a session (the tail-buffer overflow notice). */
export const SOURCE_LOGWAY = 'logway';

/**
 * A line logway itself says in a session (L11, L12, the closing line), so it goes through the
 * session's chosen format (text, SSE, NDJSON) like any other line. Source `logway`; the position
 * is synthetic (empty topic, partition -1, offset "") since it never came from Kafka.
 */
export function logwayNotice(appKey: string, kind: 'app' | 'site', message: string, now: Date, opts: { severity?: number; dyno?: string } = {}): LogLine {
  // A site's key is a host name, not `app-space`: site lines carry it whole, with no space.
  const { app, space } = (kind === 'app' && splitAppKey(appKey, { defaultSpace: DEFAULT_SPACE })) || { app: appKey, space: '' };
  return {
    time: new Date(now.getTime()),
    app,
    space,
    appKey,
    source: SOURCE_LOGWAY,
    dyno: opts.dyno ?? '',
    processType: '',
    severity: opts.severity ?? 3,
    message,
    position: { topic: '', partition: -1, offset: '' },
  };
}

/** Heroku's L11 notice: no dyno, severity error. */
export function l11Line(appKey: string, dropped: number, since: Date, now: Date, kind: 'app' | 'site' = 'app'): LogLine {
  return logwayNotice(appKey, kind, `Error L11 (Tail buffer overflow) -> This tail session dropped ${dropped} messages since ${isoTime(since)}.`, now);
}

/** `<now> <appKey> logway: Error L11 (Tail buffer overflow) -> This tail session dropped N messages since <since>.` */
export function toL11Line(appKey: string, dropped: number, since: Date, now: Date): string {
  return toAkkerisText(l11Line(appKey, dropped, since, now));
}
