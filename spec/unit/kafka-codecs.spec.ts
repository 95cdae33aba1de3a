/**
 * The snappy, lz4 and zstd codecs registered with kafkajs (lib/kafka/codecs.ts), on record batches
 * written by real producers: librdkafka (kcat -z) and the Java client (Kafka's ConsoleProducer,
 * whose snappy is xerial-framed). The fixtures are the first record batch of a segment file, byte
 * for byte (spec/fixtures/kafka-batches/make.ts), decoded here by kafkajs's own record-batch
 * decoder: the path a fetch response takes in the tail hub, the drain worker and read-backs.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CODECS, MESSAGES, PRODUCERS } from '../fixtures/kafka-batches/make';
import * as zstdWasm from '@bokuweb/zstd-wasm';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import {
  BATCH_FLOOR,
  BATCH_RATIO,
  batchLimit,
  codecs,
  GZIP_SYNC_BYTES,
  loadZstd,
  MAX_BATCH_BYTES,
  registerCompressionCodecs,
  zstdFrames,
} from '../../lib/kafka/codecs';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal decoder, the code under test's caller */
const decodeRecordBatch: (d: unknown) => Promise<{ records: { value: Buffer }[] }> = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const KafkaDecoder: new (b: Buffer) => unknown = require('kafkajs/src/protocol/decoder');
/* eslint-enable @typescript-eslint/no-require-imports */

const CODEC_ID = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const fixture = (codec: string, producer: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'kafka-batches', `${codec}-${producer}.batch`));
/** DefaultRecordBatch v2: attributes at byte 21 (low 3 bits: codec), record count at 57, records from 61. */
const codecOf = (batch: Buffer) => batch.readInt16BE(21) & 7;
const recordCount = (batch: Buffer) => batch.readInt32BE(57);
const compressedRecords = (batch: Buffer) => batch.subarray(61);

beforeAll(() => registerCompressionCodecs());

/** About `bytes` of Akkeris app-log JSON lines, as a space topic carries them (bench/kafka-codecs.ts). */
function appLogJson(bytes: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const app = `app${i % 10}`;
    const time = new Date(1_700_000_000_000 + i * 37).toISOString();
    const line = JSON.stringify({
      log: `${time} GET /api/items/${(i * 7919) % 100_000} 200 ${i % 97} ms request_id=${((i * 2654435761) >>> 0).toString(16)}\n`,
      stream: i % 7 === 0 ? 'stderr' : 'stdout',
      time,
      kubernetes: { namespace_name: 'space', pod_name: `${app}-web-1562910588-d${i % 4}`, container_name: app, host: 'ip-10-0-0-1' },
      topic: 'space',
    });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n'));
}

describe.each(PRODUCERS)('record batches written by %s', (producer) => {
  it.each(CODECS)('%s: kafkajs decodes every record of the batch', async (codec) => {
    const batch = fixture(codec, producer);
    // The fixture really is compressed with that codec (a producer may send small batches plain).
    expect(codecOf(batch)).toBe(CODEC_ID[codec]);
    const n = recordCount(batch);
    expect(n).toBeGreaterThan(1);
    const { records } = await decodeRecordBatch(new KafkaDecoder(batch));
    expect(records.map((r) => r.value.toString('utf8'))).toEqual(MESSAGES.slice(0, n));
  });
});

it('Java-client snappy is xerial-framed and librdkafka snappy is raw: both are read', async () => {
  const xerial = compressedRecords(fixture('snappy', 'java'));
  const raw = compressedRecords(fixture('snappy', 'rdkafka'));
  expect(xerial.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
  expect(raw.subarray(0, 8)).not.toEqual(xerial.subarray(0, 8));
  // The decompressed records of one producer start with the same first record as the other's.
  const a = await codecs.snappy.decompress(xerial);
  const b = await codecs.snappy.decompress(raw);
  expect(a.includes(Buffer.from(MESSAGES[0]))).toBe(true);
  expect(b.includes(Buffer.from(MESSAGES[0]))).toBe(true);
});

it('every codec yields the same messages as gzip, as Buffers', async () => {
  for (const producer of PRODUCERS) {
    const reference = zlib.gunzipSync(compressedRecords(fixture('gzip', producer)));
    for (const codec of ['snappy', 'lz4', 'zstd'] as const) {
      const batch = fixture(codec, producer);
      const out = await codecs[codec].decompress(compressedRecords(batch));
      expect(Buffer.isBuffer(out)).toBe(true);
      // Same messages; record timestamps are deltas from the batch's, so compare the values only.
      for (const m of MESSAGES.slice(0, recordCount(batch))) expect(out.includes(Buffer.from(m))).toBe(true);
      // Same record count as the gzip batch: only timestamp deltas differ, a few bytes a record.
      if (recordCount(batch) === recordCount(fixture('gzip', producer))) expect(Math.abs(out.length - reference.length)).toBeLessThan(MESSAGES.length * 16);
    }
  }
});

it('gzip, snappy and lz4 round-trip what they compress (kafkajs would produce with them)', async () => {
  const data = Buffer.from(MESSAGES.join('\n').repeat(20));
  for (const codec of ['gzip', 'snappy', 'lz4'] as const) {
    const packed = await codecs[codec].compress({ buffer: data });
    expect(packed.length).toBeLessThan(data.length / 4);
    expect((await codecs[codec].decompress(packed)).equals(data)).toBe(true);
  }
  // lz4 writes the frame format Kafka expects (magic 0x184D2204, little-endian).
  expect((await codecs.lz4.compress({ buffer: data })).readUInt32LE(0)).toBe(0x184d2204);
});

it('zstd is read-only: compress says so', async () => {
  await expect(codecs.zstd.compress({ buffer: Buffer.from('x') })).rejects.toThrow(/zstd compression is not available/);
});

it('a corrupt batch fails with an error naming the codec, not a hang or a wrong result', async () => {
  const garbage = Buffer.from('this is not compressed data at all, just text');
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    await expect(codecs[codec].decompress(garbage)).rejects.toThrow(new RegExp(`^${codec} decompression failed`));
  }
  // A truncated zstd frame from a real producer.
  const zstd = compressedRecords(fixture('zstd', 'rdkafka'));
  await expect(codecs.zstd.decompress(zstd.subarray(0, zstd.length >> 1))).rejects.toThrow(/^zstd decompression failed/);
});

/** A zstd frame header (RFC 8878 §3.1.1.1): magic, descriptor, then a window byte or a content size. */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** No content size, 2 MiB window: the header librdkafka and the Java client write. */
const headerWithoutSize = () => Buffer.from([...ZSTD_MAGIC, 0x00, 0x58]);
/** Single segment with an 8-byte Frame_Content_Size. */
function headerWithSize(size: number): Buffer {
  const h = Buffer.alloc(13);
  Buffer.from([...ZSTD_MAGIC, 0xe0]).copy(h);
  h.writeBigUInt64LE(BigInt(size), 5);
  return h;
}
/** A block header: 3 bytes little-endian, Last_Block, Block_Type (0 raw, 1 RLE, 2 compressed), Block_Size. */
function block(type: 0 | 1, size: number, last: boolean, content: Buffer): Buffer {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.concat([Buffer.from([h & 255, (h >> 8) & 255, (h >> 16) & 255]), content]);
}
/** A compressed block's header with `size` bytes of (garbage) content: the walker reads only its header. */
const compressedBlock = (size: number) => {
  const h = (size << 3) | (2 << 1) | 1;
  return Buffer.concat([Buffer.from([h & 255, (h >> 8) & 255, (h >> 16) & 255]), Buffer.alloc(size)]);
};
/**
 * The frame libzstd's one-shot API writes (single segment, content size declared), rewritten the
 * way librdkafka and the Java client write theirs: no content size, a 2 MiB window.
 */
function withoutContentSize(frame: Buffer): Buffer {
  const fhd = frame[4];
  expect(fhd & 0x20).toBe(0x20); // single segment
  const fcsBytes = fhd >> 6 ? 1 << (fhd >> 6) : 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  return Buffer.concat([frame.subarray(0, 4), Buffer.from([fhd & 0x07, 0x58]), frame.subarray(5, 5 + dictBytes), frame.subarray(5 + dictBytes + fcsBytes)]);
}
const skippable = (data: Buffer) => Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18]), Buffer.from(Uint32Array.of(data.length).buffer), data]);

describe('zstd frames', () => {
  beforeAll(() => loadZstd());

  it('reads every frame of a batch, with and without a content size, and drops skippable frames', async () => {
    const librdkafka = compressedRecords(fixture('zstd', 'rdkafka')); // compressed blocks, no content size
    const expected = await codecs.zstd.decompress(librdkafka);
    expect(expected.includes(Buffer.from(MESSAGES[0]))).toBe(true);
    const text = Buffer.from(MESSAGES.join('\n'));
    const withSize = Buffer.from(zstdWasm.compress(text, 3)); // libzstd's one-shot API declares the size
    expect(zstdFrames(withSize)).toEqual([{ start: 0, end: withSize.length, capacity: text.length, least: text.length }]);
    const rawAndRle = Buffer.concat([headerWithoutSize(), block(0, 3, false, Buffer.from('abc')), block(1, 5, true, Buffer.from('z'))]);
    const input = Buffer.concat([skippable(Buffer.from('meta')), librdkafka, withSize, skippable(Buffer.alloc(0)), rawAndRle, skippable(Buffer.from('end'))]);
    const out = await codecs.zstd.decompress(input);
    expect(out.equals(Buffer.concat([expected, text, Buffer.from('abczzzzz')]))).toBe(true);
    // Only skippable frames, or nothing at all: no records, no error.
    expect((await codecs.zstd.decompress(skippable(Buffer.from('x')))).length).toBe(0);
    expect((await codecs.zstd.decompress(Buffer.alloc(0))).length).toBe(0);
  });

  it('a frame without a content size is given what its blocks can hold, which is enough at the bound', async () => {
    // 100 RLE blocks of 128 KiB (the most a block may hold): 12.5 MiB, from a batch padded (by a
    // skippable frame) to the compressed size the ratio bound asks for it.
    const blocks = Array.from({ length: 100 }, (_, i) => block(1, 128 * 1024, i === 99, Buffer.from('a')));
    const frame = Buffer.concat([headerWithoutSize(), ...blocks]);
    const input = Buffer.concat([skippable(Buffer.alloc(Math.ceil((100 * 128 * 1024 - BATCH_FLOOR) / BATCH_RATIO))), frame]);
    expect(batchLimit(input.length)).toBeGreaterThanOrEqual(100 * 128 * 1024);
    expect(zstdFrames(input)[0].capacity).toBe(100 * 128 * 1024);
    const out = await codecs.zstd.decompress(input);
    expect(out.length).toBe(100 * 128 * 1024);
    expect(out.every((c) => c === 0x61)).toBe(true);
  });

  it('a small batch without a content size decodes though its compressed blocks could hold 128 KiB each', async () => {
    // kcat's batches of a few lines are ~300 bytes: a bound of ~47 KB, under one block's 128 KiB.
    const text = Buffer.from(MESSAGES.join('\n'));
    const frame = withoutContentSize(Buffer.from(zstdWasm.compress(text, 3)));
    expect(frame.length).toBeLessThan(1000);
    const [f] = zstdFrames(frame);
    expect(f.capacity).toBeGreaterThan(batchLimit(frame.length));
    expect((await codecs.zstd.decompress(frame)).equals(text)).toBe(true);
  });

  it('compressed blocks that decompress beyond the bound fail at the bound, with the bound in the message', async () => {
    const text = Buffer.from('GET /health 200 OK\n'.repeat(100_000)); // ~1.9 MB
    const frame = withoutContentSize(Buffer.from(zstdWasm.compress(text, 3)));
    const limit = batchLimit(frame.length);
    expect(limit).toBeLessThan(text.length);
    expect(zstdFrames(frame)[0].least).toBeLessThan(limit); // the walker cannot tell: libzstd stops at the bound
    await expect(codecs.zstd.decompress(frame)).rejects.toThrow(
      `zstd decompression failed: zstd batch would decompress to more than ${limit} bytes (${Math.floor(limit / frame.length)}x its compressed size of ${frame.length} bytes)`,
    );
    // The same frame with its content size declared is refused by the walker, before anything is allocated.
    expect(() => zstdFrames(Buffer.from(zstdWasm.compress(text, 3)))).toThrow(/^zstd batch would decompress to more than/);
  });

  it('a batch may decompress to FLOOR + RATIO x its compressed size, at most MAX_BATCH_BYTES', () => {
    expect(batchLimit(0)).toBe(BATCH_FLOOR);
    expect(batchLimit(1000)).toBe(BATCH_FLOOR + BATCH_RATIO * 1000);
    expect(batchLimit(1024 * 1024)).toBe(MAX_BATCH_BYTES);
    // The floor is about what a batch's 61-byte header buys at the ratio: splitting a fetch into
    // tiny batches (a 10-byte frame each) does not yield much more per fetched byte than RATIO.
    expect(batchLimit(10) / (61 + 10)).toBeLessThan(BATCH_RATIO * 1.1);
  });

  it("the reviewer's 128 MiB RLE bombs are refused by the walker, before anything is allocated", async () => {
    // 342 bytes: 64 RLE blocks of 2^21-1 bytes (libzstd takes them; the spec's block maximum does not).
    const bigBlocks = Buffer.concat([headerWithoutSize(), ...Array.from({ length: 65 }, (_, i) => block(1, (1 << 21) - 1, i === 64, Buffer.from('a')))]);
    expect(bigBlocks.length).toBeLessThan(400);
    expect(() => zstdFrames(bigBlocks)).toThrow(/^zstd block of 2097151 bytes is larger than the frame's block maximum \(131072\)$/);
    // 4 KB: 1,024 RLE blocks of 128 KiB, every one within the block maximum; the ratio bound refuses it.
    const n = 1024;
    const bomb = Buffer.concat([headerWithoutSize(), ...Array.from({ length: n }, (_, i) => block(1, 128 * 1024, i === n - 1, Buffer.from('a')))]);
    const limit = BATCH_FLOOR + BATCH_RATIO * bomb.length;
    const message = `zstd batch would decompress to more than ${limit} bytes (${Math.floor(limit / bomb.length)}x its compressed size of ${bomb.length} bytes)`;
    expect(() => zstdFrames(bomb)).toThrow(message);
    await expect(codecs.zstd.decompress(bomb)).rejects.toThrow(`zstd decompression failed: ${message}`);
    // The walker stops at the first frame past the bound: it never reads what follows.
    expect(() => zstdFrames(Buffer.concat([bomb, Buffer.from('not zstd')]))).toThrow(/^zstd batch would decompress to more than \d+ bytes/);
  });

  it('a batch that would decompress beyond MAX_BATCH_BYTES fails, whatever its size', async () => {
    // A content size of 1 TiB over one empty block: refused, the frame cannot hold what it declares.
    const liar = Buffer.concat([headerWithSize(2 ** 40), block(0, 0, true, Buffer.alloc(0))]);
    await expect(codecs.zstd.decompress(liar)).rejects.toThrow(
      /^zstd decompression failed: zstd frame declares 1099511627776 bytes but its blocks hold at most 0/,
    );
    // MAX_BATCH_BYTES of RLE blocks padded to 1 MiB fits; one block more does not.
    const n = MAX_BATCH_BYTES / (128 * 1024);
    const rle = (count: number) =>
      Buffer.concat([headerWithoutSize(), ...Array.from({ length: count }, (_, i) => block(1, 128 * 1024, i === count - 1, Buffer.from('a')))]);
    const pad = skippable(Buffer.alloc(1024 * 1024));
    expect(zstdFrames(Buffer.concat([pad, rle(n)]))[0].capacity).toBe(MAX_BATCH_BYTES);
    expect(() => zstdFrames(Buffer.concat([pad, rle(n + 1)]))).toThrow(`zstd batch would decompress to more than ${MAX_BATCH_BYTES} bytes`);
    // The limit is the sum over the frames of a batch.
    expect(() => zstdFrames(Buffer.concat([pad, rle(n / 2), rle(n / 2)]))).not.toThrow();
    expect(() => zstdFrames(Buffer.concat([pad, rle(n / 2), rle(n / 2 + 1)]))).toThrow(`more than ${MAX_BATCH_BYTES} bytes`);
  });

  it('a block larger than the block maximum, min(window, 128 KiB), is refused', () => {
    const ok = [
      Buffer.concat([headerWithoutSize(), block(0, 128 * 1024, true, Buffer.alloc(128 * 1024))]), // raw, 2 MiB window
      Buffer.concat([Buffer.from([...ZSTD_MAGIC, 0x00, 0x00]), block(1, 1024, true, Buffer.from('a'))]), // RLE, 1 KiB window
    ];
    for (const b of ok) expect(() => zstdFrames(b)).not.toThrow();
    const tooBig = [
      Buffer.concat([headerWithoutSize(), block(0, 128 * 1024 + 1, true, Buffer.alloc(128 * 1024 + 1))]), // raw
      Buffer.concat([headerWithoutSize(), block(1, 128 * 1024 + 1, true, Buffer.from('a'))]), // RLE
      Buffer.concat([headerWithoutSize(), compressedBlock(128 * 1024 + 1)]), // compressed size
      Buffer.concat([Buffer.from([...ZSTD_MAGIC, 0x00, 0x00]), block(1, 1025, true, Buffer.from('a'))]), // over a 1 KiB window
      Buffer.concat([headerWithSize(100), block(0, 101, true, Buffer.alloc(101))]), // single segment: window = content size
    ];
    for (const b of tooBig) expect(() => zstdFrames(b, Infinity)).toThrow(/^zstd block of \d+ bytes is larger than the frame's block maximum/);
  });

  it('a window libzstd (32-bit) would refuse is refused by the walker', async () => {
    // Window_Log 31 (exponent 21): the binding would otherwise be handed libzstd's error as a size.
    const wide = Buffer.concat([Buffer.from([...ZSTD_MAGIC, 0x00, 21 << 3]), block(0, 3, true, Buffer.from('abc'))]);
    await expect(codecs.zstd.decompress(wide)).rejects.toThrow(/^zstd decompression failed: zstd frame window of 2\^31 bytes is too large$/);
    const widest = Buffer.concat([Buffer.from([...ZSTD_MAGIC, 0x00, 20 << 3]), block(0, 3, true, Buffer.from('abc'))]);
    expect((await codecs.zstd.decompress(widest)).toString()).toBe('abc');
  });

  it("libzstd's errors read as what went wrong", async () => {
    // Declares 3 bytes, a raw block of 3 then one more raw block of 1: the output does not fit.
    const over = Buffer.concat([headerWithSize(3), block(0, 3, false, Buffer.from('abc')), block(0, 1, true, Buffer.from('d'))]);
    expect(zstdFrames(over)[0].capacity).toBe(3);
    await expect(codecs.zstd.decompress(over)).rejects.toThrow('zstd decompression failed: output larger than the frame allows (dstSize_tooSmall)');
    // A content checksum that does not match.
    const sum = Buffer.concat([Buffer.from([...ZSTD_MAGIC, 0x04, 0x58]), block(0, 3, true, Buffer.from('abc')), Buffer.from([1, 2, 3, 4])]);
    await expect(codecs.zstd.decompress(sum)).rejects.toThrow('zstd decompression failed: checksum wrong (checksum_wrong)');
  });

  it('a frame whose blocks write more than its declared content size fails, never overruns', async () => {
    const short = Buffer.concat([headerWithSize(3), block(0, 3, false, Buffer.from('abc')), block(0, 3, true, Buffer.from('def'))]);
    expect(zstdFrames(short)[0].capacity).toBe(3);
    await expect(codecs.zstd.decompress(short)).rejects.toThrow(/^zstd decompression failed/);
  });

  it('a malformed frame header or block fails with a zstd error', async () => {
    const bad = [
      Buffer.from([...ZSTD_MAGIC, 0x08, 0x58, 0x01, 0x00, 0x00]), // reserved descriptor bit
      Buffer.concat([headerWithoutSize(), Buffer.from([0x07, 0x00, 0x00])]), // reserved block type
      Buffer.concat([headerWithoutSize(), block(0, 10, true, Buffer.from('abc'))]), // block past the end
      Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 0xff, 0, 0, 0, 1]), // skippable frame past the end
      Buffer.from(ZSTD_MAGIC), // header cut short
    ];
    for (const b of bad) await expect(codecs.zstd.decompress(b)).rejects.toThrow(/^zstd decompression failed/);
  });
});

describe('gzip', () => {
  it('is the codec kafkajs calls once registered', () => {
    expect(CompressionCodecs[CompressionTypes.GZIP]()).toBe(codecs.gzip);
    expect(CompressionCodecs[CompressionTypes.ZSTD]()).toBe(codecs.zstd);
  });

  it('reads gzip and zlib-wrapped deflate, as kafkajs did (zlib.unzip)', async () => {
    const data = Buffer.from(MESSAGES.join('\n'));
    expect((await codecs.gzip.decompress(zlib.gzipSync(data))).equals(data)).toBe(true);
    expect((await codecs.gzip.decompress(zlib.deflateSync(data))).equals(data)).toBe(true);
  });

  it('a batch that would decompress beyond its bound fails alone, with the bound in the message', async () => {
    // 32 MiB + 1 of zeros is 32 KB of gzip: its bound is FLOOR + RATIO x that, ~4 MiB.
    const bomb = zlib.gzipSync(Buffer.alloc(MAX_BATCH_BYTES + 1));
    const limit = batchLimit(bomb.length);
    expect(limit).toBeLessThan(MAX_BATCH_BYTES);
    await expect(codecs.gzip.decompress(bomb)).rejects.toThrow(
      `gzip decompression failed: gzip batch would decompress to more than ${limit} bytes (${Math.floor(limit / bomb.length)}x its compressed size of ${bomb.length} bytes)`,
    );
    // A small one (one synchronous step): 1 MiB of zeros in ~1 KB.
    const small = zlib.gzipSync(Buffer.alloc(1024 * 1024));
    await expect(codecs.gzip.decompress(small)).rejects.toThrow(`gzip batch would decompress to more than ${batchLimit(small.length)} bytes`);
    // Within the bound: the floor, 8 KiB of zeros in ~40 bytes.
    expect((await codecs.gzip.decompress(zlib.gzipSync(Buffer.alloc(BATCH_FLOOR)))).length).toBe(BATCH_FLOOR);
  });

  it('a batch that inflates beyond GZIP_SYNC_BYTES is decoded by the asynchronous zlib.unzip, and still capped', async () => {
    const unzip = jest.spyOn(zlib, 'unzip');
    try {
      // A real 1 MiB batch decodes in one synchronous step.
      const logs = appLogJson(1024 * 1024);
      expect((await codecs.gzip.decompress(zlib.gzipSync(logs))).equals(logs)).toBe(true);
      expect(unzip).not.toHaveBeenCalled();
      // 4 MiB of log JSON: past the synchronous step, decoded on the thread pool.
      const big = appLogJson(4 * 1024 * 1024);
      expect(big.length).toBeGreaterThan(GZIP_SYNC_BYTES);
      expect((await codecs.gzip.decompress(zlib.gzipSync(big))).equals(big)).toBe(true);
      expect(unzip).toHaveBeenCalledTimes(1);
      // MAX_BATCH_BYTES still holds there: 300 KB of incompressible bytes (a bound of the full
      // MAX_BATCH_BYTES) then a second gzip member of 32 MiB of zeros.
      const pad = zlib.gzipSync(Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 2654435761) >>> 24)), { level: 0 });
      const capped = Buffer.concat([pad, zlib.gzipSync(Buffer.alloc(MAX_BATCH_BYTES))]);
      expect(batchLimit(capped.length)).toBe(MAX_BATCH_BYTES);
      await expect(codecs.gzip.decompress(capped)).rejects.toThrow(`gzip batch would decompress to more than ${MAX_BATCH_BYTES} bytes`);
      expect(unzip).toHaveBeenCalledTimes(2);
    } finally {
      unzip.mockRestore();
    }
  });
});

describe('real-size batches', () => {
  beforeAll(() => loadZstd());

  it('1 MiB of app-log JSON compressed at zstd level 3 and by gzip decodes whole', async () => {
    const logs = appLogJson(1024 * 1024);
    const zstd = Buffer.from(zstdWasm.compress(logs, 3));
    expect((await codecs.zstd.decompress(zstd)).equals(logs)).toBe(true);
    expect((await codecs.gzip.decompress(zlib.gzipSync(logs))).equals(logs)).toBe(true);
    // Its ratio is far below the bound's.
    expect(logs.length / zstd.length).toBeLessThan(BATCH_RATIO / 2);
  });
});
