/**
 * The snappy, lz4 and zstd codecs registered with kafkajs (lib/kafka-codecs.ts), on record batches
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
import { codecs, MAX_BATCH_BYTES, registerCompressionCodecs, zstdFrames } from '../../lib/kafka-codecs';

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
const skippable = (data: Buffer) => Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18]), Buffer.from(Uint32Array.of(data.length).buffer), data]);

describe('zstd frames', () => {
  beforeAll(() => zstdWasm.init());

  it('reads every frame of a batch, with and without a content size, and drops skippable frames', async () => {
    const librdkafka = compressedRecords(fixture('zstd', 'rdkafka')); // compressed blocks, no content size
    const expected = await codecs.zstd.decompress(librdkafka);
    expect(expected.includes(Buffer.from(MESSAGES[0]))).toBe(true);
    const text = Buffer.from(MESSAGES.join('\n'));
    const withSize = Buffer.from(zstdWasm.compress(text, 3)); // libzstd's one-shot API declares the size
    expect(zstdFrames(withSize)).toEqual([{ start: 0, end: withSize.length, capacity: text.length }]);
    const rawAndRle = Buffer.concat([headerWithoutSize(), block(0, 3, false, Buffer.from('abc')), block(1, 5, true, Buffer.from('z'))]);
    const input = Buffer.concat([skippable(Buffer.from('meta')), librdkafka, withSize, skippable(Buffer.alloc(0)), rawAndRle, skippable(Buffer.from('end'))]);
    const out = await codecs.zstd.decompress(input);
    expect(out.equals(Buffer.concat([expected, text, Buffer.from('abczzzzz')]))).toBe(true);
    // Only skippable frames, or nothing at all: no records, no error.
    expect((await codecs.zstd.decompress(skippable(Buffer.from('x')))).length).toBe(0);
    expect((await codecs.zstd.decompress(Buffer.alloc(0))).length).toBe(0);
  });

  it('a frame without a content size is given what its blocks can hold, which is enough at the bound', async () => {
    // 100 RLE blocks of 128 KiB (the most a block may hold): 12.5 MiB from 406 bytes.
    const blocks = Array.from({ length: 100 }, (_, i) => block(1, 128 * 1024, i === 99, Buffer.from('a')));
    const frame = Buffer.concat([headerWithoutSize(), ...blocks]);
    expect(zstdFrames(frame)[0].capacity).toBe(100 * 128 * 1024);
    const out = await codecs.zstd.decompress(frame);
    expect(out.length).toBe(100 * 128 * 1024);
    expect(out.every((c) => c === 0x61)).toBe(true);
  });

  it('a batch that would decompress beyond MAX_BATCH_BYTES fails before anything is allocated', async () => {
    // A content size of 1 TiB over one empty block: refused, the frame cannot hold what it declares.
    const liar = Buffer.concat([headerWithSize(2 ** 40), block(0, 0, true, Buffer.alloc(0))]);
    await expect(codecs.zstd.decompress(liar)).rejects.toThrow(
      /^zstd decompression failed: zstd frame declares 1099511627776 bytes but its blocks hold at most 0/,
    );
    // 5 KB of 128 KiB RLE blocks: ~160 MiB, over the limit.
    const n = Math.ceil(MAX_BATCH_BYTES / (128 * 1024)) + 1;
    const bomb = Buffer.concat([headerWithoutSize(), ...Array.from({ length: n }, (_, i) => block(1, 128 * 1024, i === n - 1, Buffer.from('a')))]);
    expect(bomb.length).toBeLessThan(8 * 1024);
    await expect(codecs.zstd.decompress(bomb)).rejects.toThrow(/^zstd decompression failed: zstd batch would decompress to more than 134217728 bytes/);
    // The limit is the sum over the frames of a batch.
    const half = Buffer.concat([headerWithoutSize(), ...Array.from({ length: 600 }, (_, i) => block(1, 128 * 1024, i === 599, Buffer.from('a')))]);
    expect(() => zstdFrames(half)).not.toThrow();
    expect(() => zstdFrames(Buffer.concat([half, half]))).toThrow(/more than 134217728 bytes/);
  });

  it('a frame whose blocks write more than its declared content size fails, never overruns', async () => {
    const short = Buffer.concat([headerWithSize(3), block(0, 6, true, Buffer.from('abcdef'))]);
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

  it('a batch that would decompress beyond MAX_BATCH_BYTES fails alone', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(MAX_BATCH_BYTES + 1));
    expect(bomb.length).toBeLessThan(200 * 1024);
    await expect(codecs.gzip.decompress(bomb)).rejects.toThrow(/^gzip decompression failed/);
    expect((await codecs.gzip.decompress(zlib.gzipSync(Buffer.alloc(1024 * 1024)))).length).toBe(1024 * 1024);
  });
});
