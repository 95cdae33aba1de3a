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
import { codecs, registerCompressionCodecs } from '../../lib/kafka-codecs';

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

it('snappy and lz4 round-trip what they compress (kafkajs would produce with them)', async () => {
  const data = Buffer.from(MESSAGES.join('\n').repeat(20));
  for (const codec of ['snappy', 'lz4'] as const) {
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
  for (const codec of ['snappy', 'lz4', 'zstd'] as const) {
    await expect(codecs[codec].decompress(garbage)).rejects.toThrow(new RegExp(`^${codec} decompression failed`));
  }
  // A truncated zstd frame from a real producer.
  const zstd = compressedRecords(fixture('zstd', 'rdkafka'));
  await expect(codecs.zstd.decompress(zstd.subarray(0, zstd.length >> 1))).rejects.toThrow(/^zstd decompression failed/);
});
