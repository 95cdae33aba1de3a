/**
 * CPU cost per line of the shared hot path (no Kafka, no network): parse a fluentd message,
 * render it for a TLS syslog drain (RFC5424 + octet counting), for a text and an SSE tail
 * session, and as NDJSON. `npx tsx bench/log-hotpath.ts` (knob: LINES, ROUNDS).
 */
import { parseKafkaMessage } from '../lib/log/parse';
import { parseRfc3339 } from '../lib/log/time';
import { toAkkerisText, toNdjson, toSseEvent } from '../lib/log/format';
import { renderFrame } from '../drains/sender';
import { scriptArgs } from './lib/setup';

scriptArgs({
  usage: 'npx tsx bench/log-hotpath.ts',
  about:
    'CPU per line of the shared hot path: parse a fluentd message, render it for a TLS syslog drain, a text and an SSE session, and as NDJSON. CPU only: no stack.',
  env: { LINES: 'lines per round (200000)', ROUNDS: 'rounds (7)' },
  prints: 'one line per step: ns per line, the median and the best of the rounds.',
});

const LINES = Number(process.env.LINES ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);

function fluentd(i: number, nanos: boolean): Buffer {
  const app = `app${i % 10}`;
  const t = new Date(1_700_000_000_000 + Math.floor(i / 20)).toISOString();
  return Buffer.from(
    JSON.stringify({
      log: `${'x'.repeat(100)} line ${i}\n`,
      stream: i % 7 === 0 ? 'stderr' : 'stdout',
      time: nanos ? t.replace('Z', '123456Z') : t,
      docker: { container_id: 'a3b1c2d4e5f6' },
      kubernetes: {
        namespace_name: 'space',
        pod_id: '5391',
        pod_name: `${app}-web-1562910588-d${i % 4}`,
        container_name: app,
        labels: { name: app },
        host: 'ip-10-0-0-1',
      },
    }),
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(name: string, fn: (i: number) => unknown): void {
  const runs: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const s = process.hrtime.bigint();
    for (let i = 0; i < LINES; i++) if (fn(i)) sink++;
    runs.push(Number(process.hrtime.bigint() - s) / LINES);
  }
  console.log(
    `${name.padEnd(44)} ${median(runs).toFixed(0).padStart(6)} ns/line (median of ${ROUNDS}; min ${Math.min(...runs).toFixed(0)})${sink < 0 ? '!' : ''}`,
  );
}

const msgs = Array.from({ length: LINES }, (_, i) => ({
  topic: 'space',
  partition: i % 3,
  offset: String(i),
  timestamp: '1700000000000',
  value: fluentd(i, false),
}));
const nanoMsgs = Array.from({ length: LINES }, (_, i) => ({
  topic: 'space',
  partition: i % 3,
  offset: String(i),
  timestamp: '1700000000000',
  value: fluentd(i, true),
}));
const times = msgs.map((_, i) => new Date(1_700_000_000_000 + i * 37).toISOString().replace('Z', '080151664+02:00'));
const lines = msgs.map((m) => {
  const p = parseKafkaMessage(m);
  if (!p.ok) throw new Error(p.reason);
  return p.line;
});
const now = new Date();
const tls = { transport: 'tls' as const, framing: 'octet' as const };

measure('parseRfc3339 (ns fraction, offset)', (i) => parseRfc3339(times[i]));
measure('parseKafkaMessage (fluentd, ms time)', (i) => parseKafkaMessage(msgs[i], now).ok);
measure('parseKafkaMessage (fluentd, ns time)', (i) => parseKafkaMessage(nanoMsgs[i], now).ok);
measure('renderFrame tls octet-counted', (i) => renderFrame(lines[i], 'app0-space', tls).bytes);
measure('toAkkerisText', (i) => toAkkerisText(lines[i]).length);
measure('toSseEvent(toAkkerisText)', (i) => toSseEvent('space:0:1', toAkkerisText(lines[i])).length);
measure('toNdjson', (i) => toNdjson(lines[i]).length);
measure('parse + renderFrame (drain worker path)', (i) => {
  const p = parseKafkaMessage(msgs[i], now);
  return p.ok && renderFrame(p.line, 'app0-space', tls).bytes;
});
