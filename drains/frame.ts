/** A log line as the bytes a syslog or HTTPS drain receives (docs/design.md §3). */
import type { LogLine } from '../lib/log/line';
import { newlineSafe, toRfc5424, truncateUtf8 } from '../lib/log/format';
import type { DrainTarget } from './url';

/** RFC5424 message caps (docs/design.md §3): UDP datagrams 1024 bytes, TCP/TLS/HTTP messages 100,000 bytes. */
export const UDP_MAX_BYTES = 1024;
export const STREAM_MAX_BYTES = 100_000;

/**
 * What a line becomes on this drain's wire, and its length in bytes. The octet-counted frame is
 * RFC6587 §3.4.1 exactly as lib/log/format's frameOctetCounted builds it, kept as a string so the
 * hot path encodes UTF-8 once per batch instead of twice per line (spec/unit/drain-sender.spec.ts
 * checks both agree).
 */
export function renderFrame(line: LogLine, token: string, target: Pick<DrainTarget, 'transport' | 'framing'>): { frame: string; bytes: number } {
  const msg = toRfc5424(line, { hostname: token });
  let len = Buffer.byteLength(msg, 'utf8');
  if (target.transport === 'udp') {
    const capped = len <= UDP_MAX_BYTES ? msg : truncateUtf8(msg, UDP_MAX_BYTES);
    return { frame: capped, bytes: capped === msg ? len : Buffer.byteLength(capped, 'utf8') };
  }
  let capped = msg;
  if (len > STREAM_MAX_BYTES) {
    capped = truncateUtf8(msg, STREAM_MAX_BYTES);
    len = Buffer.byteLength(capped, 'utf8');
  }
  if ((target.transport === 'tcp' || target.transport === 'tls') && target.framing === 'newline') {
    const frame = `${newlineSafe(capped)}\n`;
    return { frame, bytes: Buffer.byteLength(frame, 'utf8') };
  }
  const prefix = `${len} `;
  return { frame: prefix + capped, bytes: prefix.length + len };
}
