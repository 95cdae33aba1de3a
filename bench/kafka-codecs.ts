/**
 * Decompression cost of the Kafka codecs logway reads (lib/kafka/codecs.ts), per batch, on one
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
 *
 * MODE=bounds: what the batch bound (batchLimit: 8 KiB + 128x the compressed size, at most
 * MAX_BATCH_BYTES) leaves an attacker who can produce to a topic. The longest the event loop
 * stalls (a 1 ms interval's largest gap) for one batch at MAX_BATCH_BYTES of log JSON (zstd -3,
 * gzip) and of RLE blocks; then one partition's fetch of FETCH_MIB (4, the tail hub's
 * maxBytesPerPartition) decoded by kafkajs's own fetch decoder (fetch/v4/decodeMessages), made of
 * zstd batches at their bound, tiny (~90 B) or padded to yield MAX_BATCH_BYTES each: the record
 * bytes it holds at once, RSS, time and the longest stall. Run it alone, it allocates ~1 GB.
 *   MODE=bounds NODE_OPTIONS=--expose-gc npx tsx bench/kafka-codecs.ts    (knob: FETCH_MIB=4)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as fzstd from 'fzstd';
import { batchLimit, codecs, loadZstd, MAX_BATCH_BYTES } from '../lib/kafka/codecs';
import { scriptArgs } from './lib/setup';

scriptArgs({
  usage: 'npx tsx bench/kafka-codecs.ts   |   MODE=bounds NODE_OPTIONS=--expose-gc npx tsx bench/kafka-codecs.ts',
  about:
    'Decompression cost of the Kafka codecs logway reads, per batch on one CPU, beside the decoders used before; MODE=bounds: what the batch bound leaves a producer that wants to stall the event loop (allocates ~1 GB: run it alone). No stack; the zstd CLI (apt-get install zstd).',
  env: {
    MODE: 'bounds for the second report',
    BATCH_KB: 'size of the large batch (1024)',
    ROUNDS: 'timed rounds per codec on the large batch (15)',
    FIXTURE_ROUNDS: 'rounds over the recorded small batches (2000)',
    FETCH_MIB: 'bounds: one partition fetch, MiB (4)',
  },
  prints: 'per codec and decoder: MB/s and µs per batch; bounds: the longest stall per batch and per fetch, the record bytes held, RSS.',
});

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

/** Runs `f` while a 1 ms interval measures the event loop: [ms in all, longest gap in ms]. */
async function stall(f: () => Promise<unknown>): Promise<[number, number]> {
  let max = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 10));
  max = 0;
  last = performance.now();
  const t0 = performance.now();
  await f();
  const total = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10));
  clearInterval(timer);
  return [total, max];
}

const ZSTD_HEADER = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // no content size, 2 MiB window, as librdkafka writes
function zstdBlock(type: 0 | 1, size: number, last: boolean, content: Buffer): Buffer {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.concat([Buffer.from([h & 255, (h >> 8) & 255, (h >> 16) & 255]), content]);
}
const skippable = (n: number) => Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18]), Buffer.from(Uint32Array.of(n).buffer), Buffer.alloc(n)]);
const varint = (v: number) => {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  const out: number[] = [];
  for (; z >= 0x80; z = Math.floor(z / 128)) out.push((z & 0x7f) | 0x80);
  out.push(z);
  return Buffer.from(out);
};
/** A zstd frame of one Kafka record whose value is `valueLen` bytes of 'a' (RLE blocks of 128 KiB), after `pad` bytes of skippable frame. */
function recordFrame(valueLen: number, pad: number): Buffer {
  const body = Buffer.concat([Buffer.from([0]), varint(0), varint(0), varint(-1), varint(valueLen)]);
  const head = Buffer.concat([varint(body.length + valueLen + 1), body]);
  const parts = [pad ? skippable(pad) : Buffer.alloc(0), Buffer.from(ZSTD_HEADER), zstdBlock(0, head.length, false, head)];
  for (let left = valueLen; left > 0; left -= 128 * 1024) parts.push(zstdBlock(1, Math.min(128 * 1024, left), false, Buffer.from('a')));
  parts.push(zstdBlock(0, 1, true, Buffer.from([0])));
  return Buffer.concat(parts);
}
/** The largest such frame within its batch's bound. */
function frameAtBound(pad: number): Buffer {
  let v = 1;
  for (let step = 2 ** 25; step >= 1; step /= 2) if (batchLimit(recordFrame(v + step, pad).length) >= v + step + 32) v += step;
  return recordFrame(v, pad);
}
/** A DefaultRecordBatch v2 (zstd, one record) around `frame`. */
function recordBatch(offset: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(61);
  h.writeBigInt64BE(BigInt(offset), 0);
  h.writeInt32BE(49 + frame.length, 8);
  h.writeInt8(2, 16);
  h.writeInt16BE(4, 21);
  h.writeBigInt64BE(-1n, 43);
  h.writeInt16BE(-1, 51);
  h.writeInt32BE(-1, 53);
  h.writeInt32BE(1, 57);
  return Buffer.concat([h, frame]);
}

async function bounds(): Promise<void> {
  const { registerCompressionCodecs } = await import('../lib/kafka/codecs');
  registerCompressionCodecs();
  await loadZstd();
  const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  const raw = batch(MAX_BATCH_BYTES - 4096);
  const rleCount = MAX_BATCH_BYTES / (128 * 1024);
  const single: [string, Decompress, Buffer][] = [
    ['zstd log JSON -3', codecs.zstd.decompress, execFileSync('zstd', ['-3', '-c', '-q', '--no-content-size'], { input: raw, maxBuffer: 1 << 30 })],
    [
      'zstd RLE blocks',
      codecs.zstd.decompress,
      Buffer.concat([
        skippable(MAX_BATCH_BYTES / 128),
        Buffer.from(ZSTD_HEADER),
        ...Array.from({ length: rleCount }, (_, i) => zstdBlock(1, 128 * 1024, i === rleCount - 1, Buffer.from('a'))),
      ]),
    ],
    ['gzip log JSON', codecs.gzip.decompress, zlib.gzipSync(raw)],
  ];
  console.log(`one batch of up to MAX_BATCH_BYTES (${mib(MAX_BATCH_BYTES)}): median of 5 [ms in all, longest event-loop stall ms]`);
  for (const [name, decompress, data] of single) {
    const runs: [number, number][] = [];
    for (let r = 0; r < 5; r++) runs.push(await stall(() => decompress(data)));
    const med = (i: 0 | 1) =>
      runs
        .map((x) => x[i])
        .sort((a, b) => a - b)[2]
        .toFixed(1);
    console.log(`  ${name.padEnd(18)} ${String(data.length).padStart(8)} B -> ${mib((await decompress(data)).length)}: ${med(0)} ms, stall ${med(1)} ms`);
  }
  /* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's own fetch decoder, the caller of the codecs */
  const decodeMessages: (d: unknown) => Promise<{ value: Buffer }[]> = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages');
  const KafkaDecoder: new (b: Buffer) => unknown = require('kafkajs/src/protocol/decoder');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const fetchBytes = Number(process.env.FETCH_MIB ?? 4) * 1048576;
  console.log(`one partition's fetch of ${mib(fetchBytes)} of zstd batches at their bound, through kafkajs's decodeMessages`);
  for (const [name, pad] of [
    ['tiny batches', 0],
    ['padded batches', 256 * 1024],
  ] as const) {
    const frame = frameAtBound(pad);
    const n = Math.floor(fetchBytes / (61 + frame.length));
    const records = Buffer.concat(Array.from({ length: n }, (_, i) => recordBatch(i, frame)));
    const response = Buffer.concat([Buffer.from(Uint32Array.of(0).buffer), records]);
    response.writeInt32BE(records.length, 0);
    const rss0 = process.memoryUsage().rss;
    let held = 0;
    const [ms, gap] = await stall(async () => {
      held = (await decodeMessages(new KafkaDecoder(response))).reduce((s, r) => s + r.value.length, 0);
    });
    const rss = process.memoryUsage().rss;
    console.log(
      `  ${name.padEnd(15)} ${n} batches of ${61 + frame.length} B: ${mib(held)} of records held (${(held / records.length).toFixed(0)}x the fetched bytes), RSS ${mib(rss0)} -> ${mib(rss)}, ${ms.toFixed(0)} ms, longest stall ${gap.toFixed(0)} ms`,
    );
    global.gc?.();
  }
}

void (process.env.MODE === 'bounds' ? bounds() : main());
