/**
 * Decompression throughput of the Kafka codecs logway reads (lib/kafka-codecs.ts; gzip is
 * kafkajs's own, zlib.unzip), in MB/s of decompressed records, on one CPU. The batch is Akkeris
 * app-log JSON like a space topic's; snappy and lz4 are compressed by the registered codecs (lz4:
 * 64 KB blocks, as librdkafka and the Java client write), zstd by the `zstd` CLI at level 3
 * (librdkafka's default level; apt-get install zstd).
 * Then the real producers' small batches (spec/fixtures/kafka-batches: ~17 KB of records each,
 * from kcat and the Java client), where a per-batch fixed cost shows.
 *   npx tsx bench/kafka-codecs.ts    (knobs: BATCH_KB=1024, ROUNDS=15, FIXTURE_ROUNDS=2000)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { codecs } from '../lib/kafka-codecs';

const BATCH_KB = Number(process.env.BATCH_KB ?? 1024);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const FIXTURE_ROUNDS = Number(process.env.FIXTURE_ROUNDS ?? 2000);
const unzip = promisify(zlib.unzip);

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

async function main(): Promise<void> {
  const raw = batch(BATCH_KB * 1024);
  const packed: [string, Buffer, (b: Buffer) => Promise<Buffer>][] = [
    ['gzip', zlib.gzipSync(raw), (b) => unzip(b)],
    ['snappy', await codecs.snappy.compress({ buffer: raw }), codecs.snappy.decompress],
    ['lz4', await codecs.lz4.compress({ buffer: raw }), codecs.lz4.decompress],
    ['zstd', execFileSync('zstd', ['-3', '-c', '-q'], { input: raw, maxBuffer: 1 << 30 }), codecs.zstd.decompress],
  ];
  console.log(`batch ${(raw.length / 1048576).toFixed(2)} MiB of Akkeris JSON, median of ${ROUNDS} rounds`);
  console.log('codec   ratio   decompress MB/s');
  for (const [name, data, decompress] of packed) {
    if (!(await decompress(data)).equals(raw)) throw new Error(`${name}: round trip differs`);
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      await decompress(data);
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    times.sort((a, b) => a - b);
    const mbs = raw.length / 1e6 / times[Math.floor(times.length / 2)];
    console.log(`${name.padEnd(7)} ${(raw.length / data.length).toFixed(1).padStart(5)}x  ${mbs.toFixed(0).padStart(8)}`);
  }

  const dir = path.join(__dirname, '..', 'spec', 'fixtures', 'kafka-batches');
  const byName = Object.fromEntries(packed.map(([n, , d]) => [n, d]));
  console.log(`\nreal producers' batches (records from byte 61 of a record batch), ${FIXTURE_ROUNDS} rounds`);
  console.log('batch                 in B    out B   decompress MB/s   batches/s');
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.batch'))
    .sort()) {
    const data = fs.readFileSync(path.join(dir, f)).subarray(61);
    const decompress = byName[f.split('-')[0]];
    const out = await decompress(data);
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < FIXTURE_ROUNDS; r++) await decompress(data);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `${f.padEnd(20)} ${String(data.length).padStart(5)} ${String(out.length).padStart(8)} ${((out.length * FIXTURE_ROUNDS) / 1e6 / s).toFixed(0).padStart(17)} ${(FIXTURE_ROUNDS / s).toFixed(0).padStart(11)}`,
    );
  }
}

void main();
