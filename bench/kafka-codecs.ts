/**
 * Decompression cost of the Kafka codecs logway reads (lib/kafka-codecs.ts), per batch, on one
 * CPU: MB/s of decompressed records and µs per batch.
 * - Large: one ~1 MiB batch of Akkeris app-log JSON like a space topic's; snappy and lz4 are
 *   compressed by the registered codecs (lz4: 64 KB blocks, as librdkafka and the Java client
 *   write), zstd by the `zstd` CLI at level 3 from stdin (librdkafka's default level; like
 *   librdkafka's frames it declares no content size; apt-get install zstd).
 * - Small: the real producers' batches (spec/fixtures/kafka-batches: ~17 KB of records in ~1-2 KB,
 *   from kcat and the Java client, as a producer with linger sends them), where a per-batch fixed
 *   cost shows.
 * Reference rows, measured interleaved with the codec logway uses: the decoders logway used before,
 * `zstd fzstd` (pure JS; it allocates and shifts the frame's whole window per batch) and
 * `gzip kafkajs` (kafkajs's own codec: the async zlib.unzip, a thread-pool round trip per 16 KiB).
 * Every candidate is checked to give the same bytes before it is timed.
 *   npx tsx bench/kafka-codecs.ts    (knobs: BATCH_KB=1024, ROUNDS=15, FIXTURE_ROUNDS=2000)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as fzstd from 'fzstd';
import { codecs } from '../lib/kafka-codecs';

const BATCH_KB = Number(process.env.BATCH_KB ?? 1024);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const FIXTURE_ROUNDS = Number(process.env.FIXTURE_ROUNDS ?? 2000);
const unzip = promisify(zlib.unzip);

type Decompress = (b: Buffer) => Promise<Buffer>;
/** Per codec, the decoder logway uses first, then reference decoders timed beside it. */
const DECODERS: Record<string, [string, Decompress][]> = {
  gzip: [
    ['gzip', codecs.gzip.decompress],
    ['gzip kafkajs', (b) => unzip(b)],
  ],
  snappy: [['snappy', codecs.snappy.decompress]],
  lz4: [['lz4', codecs.lz4.decompress]],
  zstd: [
    ['zstd', codecs.zstd.decompress],
    ['zstd fzstd', async (b) => Buffer.from(fzstd.decompress(b))],
  ],
};

function batch(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const app = `app${i % 10}`;
    const line = JSON.stringify({
      log: `${new Date(1_700_000_000_000 + i).toISOString()} GET /api/items/${(i * 7919) % 100_000} 200 ${i % 97} ms request_id=${((i * 2654435761) >>> 0).toString(16)}\n`,
      stream: i % 7 === 0 ? 'stderr' : 'stdout',
      time: new Date(1_700_000_000_000 + i).toISOString(),
      docker: { container_id: 'a3b1c2d4e5f6' },
      kubernetes: {
        namespace_name: 'space',
        pod_id: '5391',
        pod_name: `${app}-web-1562910588-d${i % 4}`,
        container_name: app,
        labels: { name: app },
        host: 'ip-10-0-0-1',
      },
      topic: 'space',
      tag: 'x',
    });
    lines.push(line);
    size += line.length + 8; // + a record's varint framing, roughly
  }
  return Buffer.from(lines.join('\n'));
}

/** Seconds per call of each decoder on `data`: `rounds` rounds of `calls` calls, candidates interleaved per round, median round. */
async function timeInterleaved(decoders: [string, Decompress][], data: Buffer, rounds: number, calls: number): Promise<number[]> {
  const times = decoders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, decompress]] of decoders.entries()) {
      const t0 = process.hrtime.bigint();
      for (let c = 0; c < calls; c++) await decompress(data);
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e9 / calls);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

async function report(label: string, decoders: [string, Decompress][], data: Buffer, rounds: number, calls: number): Promise<void> {
  const out = await decoders[0][1](data);
  for (const [name, decompress] of decoders) if (!(await decompress(data)).equals(out)) throw new Error(`${name}: ${label} decodes differently`);
  const secs = await timeInterleaved(decoders, data, rounds, calls);
  for (const [i, [name]] of decoders.entries()) {
    const s = secs[i];
    console.log(
      `${label.padEnd(22)} ${name.padEnd(12)} ${String(data.length).padStart(8)} ${String(out.length).padStart(8)} ${(out.length / 1e6 / s).toFixed(0).padStart(6)} ${(s * 1e6).toFixed(1).padStart(9)}`,
    );
  }
}

async function main(): Promise<void> {
  const raw = batch(BATCH_KB * 1024);
  const packed: Record<string, Buffer> = {
    gzip: zlib.gzipSync(raw),
    snappy: await codecs.snappy.compress({ buffer: raw }),
    lz4: await codecs.lz4.compress({ buffer: raw }),
    zstd: execFileSync('zstd', ['-3', '-c', '-q'], { input: raw, maxBuffer: 1 << 30 }),
  };
  console.log(`large: ${(raw.length / 1048576).toFixed(2)} MiB of Akkeris JSON, median of ${ROUNDS} interleaved rounds`);
  console.log(
    `small: real producers' batches (records from byte 61 of a record batch), median of ${ROUNDS} interleaved rounds of ${Math.round(FIXTURE_ROUNDS / ROUNDS)}`,
  );
  console.log('batch                  decoder         in B    out B   MB/s  µs/batch');
  for (const [codec, data] of Object.entries(packed)) {
    if (!(await DECODERS[codec][0][1](data)).equals(raw)) throw new Error(`${codec}: round trip differs`);
    await report(`large ${codec} ${(raw.length / data.length).toFixed(1)}x`, DECODERS[codec], data, ROUNDS, 1);
  }
  const dir = path.join(__dirname, '..', 'spec', 'fixtures', 'kafka-batches');
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.batch'))
    .sort()) {
    const data = fs.readFileSync(path.join(dir, f)).subarray(61);
    await report(f, DECODERS[f.split('-')[0]], data, ROUNDS, Math.max(1, Math.round(FIXTURE_ROUNDS / ROUNDS)));
  }
}

void main();
