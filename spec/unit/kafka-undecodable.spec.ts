/**
 * lib/kafka/undecodable.ts on fetch responses encoded with kafkajs's own encoders (RecordBatch,
 * Record, Encoder): an undecodable record batch (here a gzip batch past its bound in
 * lib/kafka/codecs.ts) ends its partition's records with one marker, and the other partitions of the
 * response decode as before. Decoded through kafkajs's fetch v11 response module, so this fails
 * if kafkajs stops taking decodeMessages from the module the wrapper replaces (a kafkajs upgrade).
 */
import zlib from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { registerCompressionCodecs } from '../../lib/kafka/codecs';
import { DECODE_MESSAGES, FETCH_RESPONSES, installUndecodableBatches, undecodableOf } from '../../lib/kafka/undecodable';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's encoders and decoders, the code under test's neighbours */
const KAFKAJS = 'kafkajs/src/protocol';
const Encoder = require(`${KAFKAJS}/encoder`) as new () => KafkaEncoder;
const KafkaDecoder = require(`${KAFKAJS}/decoder`) as new (b: Buffer) => unknown;
const { RecordBatch } = require(`${KAFKAJS}/recordBatch/v0`) as { RecordBatch: (o: object) => Promise<KafkaEncoder> };
const Record = require(`${KAFKAJS}/recordBatch/record/v0`) as (o: object) => KafkaEncoder;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string): unknown };
const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, p: object) => { messages: Msg[] };
/* eslint-enable @typescript-eslint/no-require-imports */

interface KafkaEncoder {
  buffer: Buffer;
  writeInt16(v: number): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeInt64(v: unknown): KafkaEncoder;
  writeString(v: string): KafkaEncoder;
  writeBytes(v: Buffer): KafkaEncoder;
  writeEncoder(v: KafkaEncoder): KafkaEncoder;
}
interface Msg {
  offset: string;
  value: Buffer | null;
}

beforeAll(() => registerCompressionCodecs());

/** One record batch of `values` at `firstOffset`, compressed with `compression`. */
const batch = (firstOffset: number, values: (string | Buffer)[], compression = CompressionTypes.None) =>
  RecordBatch({
    compression,
    firstOffset: Long.fromValue(firstOffset),
    lastOffsetDelta: values.length - 1,
    records: values.map((v, i) => Record({ offsetDelta: i, key: null, value: Buffer.from(v) })),
  }).then((e) => e.buffer);

/** Past the gzip bound: 2 MB of one character compresses ~1000x (the bound is 8 KiB + 128x). */
const bomb = () => batch(2, [Buffer.alloc(2 * 1024 * 1024, 'a')], CompressionTypes.GZIP);

/** A fetch v11 response of one topic: each partition's record set as given. */
function fetchResponse(topic: string, partitions: { partition: number; records: Buffer }[]): Buffer {
  const e = new Encoder().writeInt32(0).writeInt16(0).writeInt32(0).writeInt32(1).writeString(topic).writeInt32(partitions.length);
  for (const p of partitions) {
    e.writeInt32(p.partition).writeInt16(0).writeInt64(Long.fromValue(100)).writeInt64(Long.fromValue(100)).writeInt64(Long.fromValue(0));
    e.writeInt32(0); // no aborted transactions
    e.writeInt32(-1); // preferred read replica
    e.writeBytes(p.records);
  }
  return e.buffer;
}

describe('undecodable record batches', () => {
  let good: Buffer;
  let bad: Buffer;
  let after: Buffer;
  let other: Buffer;

  beforeAll(async () => {
    good = await batch(0, ['line 0', 'line 1']);
    bad = await bomb();
    after = await batch(3, ['line 3']);
    other = await batch(40, ['other 40', 'other 41']);
    expect(zlib.gunzipSync(bad.subarray(61)).length).toBeGreaterThan(1024 * 1024); // really the bomb it is meant to be
  });

  it("fail kafkajs's own decodeMessages (the crash this module prevents)", async () => {
    // Before installUndecodableBatches: the module in the require cache is kafkajs's.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const original = require(DECODE_MESSAGES) as (d: unknown) => Promise<unknown>;
    const records = Buffer.concat([good, bad, after]);
    const d = new KafkaDecoder(new Encoder().writeBytes(records).buffer);
    await expect(original(d)).rejects.toThrow(/gzip decompression failed: gzip batch would decompress to more than/);
  });

  it('end their partition with one marker; the partitions around them decode as before', async () => {
    expect(FETCH_RESPONSES.filter((f) => require.cache[f])).toEqual([]);
    installUndecodableBatches();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { decode } = require('kafkajs/src/protocol/requests/fetch/v11/response') as {
      decode(b: Buffer): Promise<{ responses: { topicName: string; partitions: { partition: number; messages: Msg[] }[] }[] }>;
    };
    const out = await decode(
      fetchResponse('t', [
        { partition: 0, records: Buffer.concat([good, bad, after]) },
        { partition: 1, records: other },
      ]),
    );
    const [p0, p1] = out.responses[0].partitions;
    // The batch before the bad one is kept; the one after it is not read (nothing past the marker).
    expect(p0.messages.map((m) => [m.offset, m.value?.toString() ?? null])).toEqual([
      ['0', 'line 0'],
      ['1', 'line 1'],
      ['2', null],
    ]);
    expect(p0.messages.slice(0, 2).every((m) => undecodableOf(m) === undefined)).toBe(true);
    expect(undecodableOf(p0.messages[2])).toEqual({
      firstOffset: '2',
      lastOffset: '2',
      reason: expect.stringMatching(/^gzip decompression failed: gzip batch would decompress to more than \d+ bytes/),
    });
    expect(p1.partition).toBe(1);
    expect(p1.messages.map((m) => m.value?.toString())).toEqual(['other 40', 'other 41']);
  });

  it('a bad first batch is the only record; its offset is its last, so a fetch position inside it keeps it', async () => {
    installUndecodableBatches();
    const wide = await RecordBatch({
      compression: CompressionTypes.GZIP,
      firstOffset: Long.fromValue(10),
      lastOffsetDelta: 4,
      records: Array.from({ length: 5 }, (_, i) => Record({ offsetDelta: i, key: null, value: Buffer.alloc(400 * 1024, 'b') })),
    }).then((e) => e.buffer);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { decode } = require('kafkajs/src/protocol/requests/fetch/v11/response') as { decode(b: Buffer): Promise<{ responses: { partitions: object[] }[] }> };
    const out = await decode(fetchResponse('t', [{ partition: 0, records: wide }]));
    const partition = out.responses[0].partitions[0] as { messages: Msg[] };
    expect(partition.messages).toHaveLength(1);
    expect(undecodableOf(partition.messages[0])).toMatchObject({ firstOffset: '10', lastOffset: '14' });
    // kafkajs drops records below the fetch position: fetching from 12 still sees the marker.
    const kept = new Batch('t', '12', { ...partition, highWatermark: '100', abortedTransactions: [] });
    expect(kept.messages.map((m) => m.offset)).toEqual(['14']);
  });

  it('a good record set goes through kafkajs alone, as before', async () => {
    installUndecodableBatches();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const decodeMessages = require(DECODE_MESSAGES) as (d: unknown) => Promise<Msg[]>;
    const d = new KafkaDecoder(new Encoder().writeBytes(Buffer.concat([good, after])).buffer);
    const out = await decodeMessages(d);
    expect(out.map((m) => m.value?.toString())).toEqual(['line 0', 'line 1', 'line 3']);
    expect(out.every((m) => undecodableOf(m) === undefined)).toBe(true);
  });
});
