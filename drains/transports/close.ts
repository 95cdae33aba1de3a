/** Ending a drain's connection the way TLS receivers expect. */
import type net from 'node:net';

/** How long a closing connection waits for the receiver's own close before it is cut. */
const CLOSE_GRACE_MS = 2000;

/**
 * `end()` sends TLS `close_notify` (RFC 8446 §6.1, RFC5425 §4.4) and then the FIN; `destroy()`
 * sends neither, and receivers (syslog-ng, rsyslog, openssl) log a truncated connection. A
 * receiver that never closes its side is cut after CLOSE_GRACE_MS.
 */
export function endCleanly(socket: net.Socket): void {
  if (socket.destroyed) return;
  const cut = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  socket.end();
}
