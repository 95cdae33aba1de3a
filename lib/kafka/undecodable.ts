/**
 * An undecodable record batch (corrupt, or a gzip/zstd batch past its bound in ./codecs)
 * becomes a poison of its own partition instead of failing the whole fetch.
 *
 * kafkajs decodes each partition's record set in fetch/v4/decodeMessages, which every fetch
 * response version from v4 on (v4, v5, v7, v8, v11) binds at load time
 * (`const decodeMessages = require('../v4/decodeMessages')`) and which rethrows every error but
 * KafkaJSPartialMessageError. One bad batch then failed the fetch response of every partition of
 * that broker: the consumer crashed, restarted, fetched the same batch and crashed again, for
 * every topic it reads.
 *
 * installUndecodableBatches() (./kafkajs-patches calls it when the first client is made) puts a
 * wrapper in that module's place in the require cache before kafkajs first requires a fetch
 * response module (they are required on the first fetch, from fetch/index.js). The wrapper runs kafkajs's own decodeMessages; only when it throws does it
 * decode the record set again batch by batch, keeping the records of the batches before the bad
 * one and ending with ONE marker record standing for the bad batch (undecodableOf(record) says
 * why). The partition's record set was already read whole from the response, so the other
 * partitions decode as before. ./consumer takes the marker off a batch and hands it on as
 * FetchedBatch.undecodable; lib/kafka/source quarantines the partition there.
 *
 * The marker's offset is the bad batch's LAST offset (first offset + lastOffsetDelta): kafkajs
 * drops records below the fetch position (consumer/batch.js), and a position inside the bad
 * batch must still see it; a batch whose raw records were all dropped would be resolved past by
 * kafkajs (Runner: isEmptyDueToFiltering).
 *
 * Written against kafkajs 2.2.4 (node_modules/kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js,
 * recordBatch/v0/decoder.js), the version package.json pins and ./kafkajs-patches checks;
 * spec/unit/kafka-undecodable.spec.ts fails if that layout changes.
 */
import path from 'node:path';

/** What a marker record carries: the bad batch's offsets and why it could not be decoded. */
export interface Undecodable {
  /** The bad batch's first offset. */
  firstOffset: string;
  /** Its last offset (the marker record's offset). */
  lastOffset: string;
  reason: string;
}

const UNDECODABLE = Symbol('logway.undecodable');

/** The marker's Undecodable when `record` stands for an undecodable batch, else undefined. */
export function undecodableOf(record: object): Undecodable | undefined {
  return (record as { [UNDECODABLE]?: Undecodable })[UNDECODABLE];
}

/** The kafkajs 2.2.4 files this module reads or replaces, relative to kafkajs/src/protocol. */
const KAFKAJS_SRC = path.dirname(require.resolve('kafkajs/package.json'));
export const DECODE_MESSAGES = path.join(KAFKAJS_SRC, 'src/protocol/requests/fetch/v4/decodeMessages.js');
/** The fetch response modules that bind decodeMessages when they are first required. */
export const FETCH_RESPONSES = ['v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11'].map((v) =>
  path.join(KAFKAJS_SRC, `src/protocol/requests/fetch/${v}/response.js`),
);

interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readBytes(n: number): Buffer;
  canReadBytes(n: number): boolean;
}
type DecodeMessages = (decoder: KafkaDecoder) => Promise<object[]>;

interface KafkajsInternals {
  Decoder: new (b: Buffer) => KafkaDecoder;
  RecordBatchDecoder: (d: KafkaDecoder) => Promise<{ records: object[] }>;
  MAGIC_BYTE: number;
}

let loaded: KafkajsInternals | undefined;

/** kafkajs's decoders, required on first use: importing this module reaches into no kafkajs file (./kafkajs-patches checks the version first). */
function internals(): KafkajsInternals {
  /* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals, by path (this module's purpose) */
  loaded ??= {
    Decoder: require(path.join(KAFKAJS_SRC, 'src/protocol/decoder')),
    RecordBatchDecoder: require(path.join(KAFKAJS_SRC, 'src/protocol/recordBatch/v0/decoder')),
    MAGIC_BYTE: require(path.join(KAFKAJS_SRC, 'src/protocol/recordBatch/v0')).MAGIC_BYTE,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return loaded;
}

/** As in decodeMessages.js: where the magic byte is, and the least a record batch can be. */
const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;

/**
 * kafkajs's decodeMessages with the bad batch turned into a marker: `original` is tried first (so
 * a good record set is decoded by kafkajs's code alone, as before); when it throws anything but
 * KafkaJSPartialMessageError, the record set is decoded again here up to the bad batch.
 */
export function tolerantDecodeMessages(original: DecodeMessages): DecodeMessages {
  const wrapped = async (decoder: KafkaDecoder) => {
    const start = decoder.offset;
    try {
      return await original(decoder);
    } catch (e) {
      decoder.offset = start;
      return salvage(decoder, e);
    }
  };
  (wrapped as { [UNDECODABLE]?: DecodeMessages })[UNDECODABLE] = original;
  return wrapped;
}

async function salvage(decoder: KafkaDecoder, first: unknown): Promise<object[]> {
  const size = decoder.readInt32();
  // decodeMessages threw past these checks, so they hold; kept for a decoder in an odd state.
  if (size <= 0 || !decoder.canReadBytes(size)) throw first;
  const bytes = decoder.readBytes(size);
  const { Decoder, RecordBatchDecoder, MAGIC_BYTE } = internals();
  // A legacy message set (magic 0/1) has no batch header to name: its failure stays kafkajs's.
  if (bytes.length <= MAGIC_OFFSET || bytes.readInt8(MAGIC_OFFSET) !== MAGIC_BYTE) throw first;
  const batches = new Decoder(bytes);
  const records: object[] = [];
  while (batches.canReadBytes(RECORD_BATCH_OVERHEAD)) {
    const at = batches.offset;
    try {
      records.push(...(await RecordBatchDecoder(batches)).records);
    } catch (e) {
      if ((e as Error)?.name === 'KafkaJSPartialMessageError') break;
      records.push(marker(bytes, at, e));
      return records;
    }
  }
  // Decoded cleanly the second time (a codec that failed once, e.g. libzstd's first load): as kafkajs.
  return records;
}

/** The marker record of the batch at `at` (its header: firstOffset int64, ..., lastOffsetDelta int32 at +23). */
function marker(bytes: Buffer, at: number, e: unknown): object {
  const firstOffset = bytes.readBigInt64BE(at);
  const delta = bytes.readInt32BE(at + 23);
  const lastOffset = delta > 0 ? firstOffset + BigInt(delta) : firstOffset;
  const undecodable: Undecodable = {
    firstOffset: firstOffset.toString(),
    lastOffset: lastOffset.toString(),
    reason: (e as Error)?.message ?? String(e),
  };
  return {
    magicByte: internals().MAGIC_BYTE,
    attributes: 0,
    timestamp: '-1',
    offset: undecodable.lastOffset,
    key: null,
    value: null,
    headers: {},
    isControlRecord: false,
    // Read by kafkajs's filterAbortedMessages: never taken for part of an aborted transaction.
    batchContext: { firstOffset: undecodable.firstOffset, producerId: '-1', inTransaction: false, isControlBatch: false },
    [UNDECODABLE]: undecodable,
  };
}

let installed = false;

/**
 * Puts tolerantDecodeMessages in kafkajs's decodeMessages module's place (idempotent). Throws
 * if a fetch response module was loaded first: it would hold the original, and an undecodable
 * batch would crash-loop its consumer again.
 */
export function installUndecodableBatches(): void {
  if (installed) return;
  const loaded = FETCH_RESPONSES.filter((f) => require.cache[f]);
  if (loaded.length) throw new Error(`kafkajs fetch responses loaded before lib/kafka/undecodable.ts: ${loaded.join(', ')}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const original = require(DECODE_MESSAGES) as DecodeMessages;
  const cached = require.cache[DECODE_MESSAGES];
  if (!cached || cached.exports !== original) throw new Error('kafkajs decodeMessages is not in the require cache where expected');
  if (!(original as { [UNDECODABLE]?: unknown })[UNDECODABLE]) cached.exports = tolerantDecodeMessages(original);
  installed = true;
}
