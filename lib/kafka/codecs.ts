/**
 * Kafka's compression codecs for kafkajs, which ships only gzip: without these, one snappy, lz4 or
 * zstd batch anywhere in a fetch fails the whole fetch ("ZSTD compression not implemented") and
 * the consumer crash-loops for every topic it reads. fluentd, Vector and librdkafka producers
 * commonly compress with them.
 *
 * gzip is Node's zlib, registered here in place of kafkajs's own codec, which decodes with the
 * async zlib.unzip: its thread-pool round trip per 16 KiB chunk cost 60-100 µs of main-thread time
 * for a 1 KB batch (zlib.unzipSync: 20 µs) and, with the copies, more main-thread time than
 * unzipSync for a 1 MiB batch too (bench/kafka-codecs.ts); nor did it bound the output. Real
 * batches (up to GZIP_SYNC_BYTES decompressed) are decoded with unzipSync; larger ones with the
 * async zlib.unzip, so one batch never holds the event loop for long.
 *
 * Every gzip and zstd batch is bounded by its compressed size (batchLimit, below): a batch past
 * its bound fails with "<codec> batch would decompress to more than N bytes" (its partition is
 * quarantined: ./undecodable).
 *
 * The others come from packages that install from the npm registry alone (no native build,
 * nothing fetched at install):
 * - snappy: kafkajs-snappy (snappyjs), which reads both raw snappy (librdkafka) and the xerial
 *   framing the Java client writes;
 * - lz4: lz4js, the LZ4 frame format Kafka uses since record batch v2 (magic 2);
 * - zstd: @bokuweb/zstd-wasm, the reference libzstd compiled to WebAssembly (the .wasm ships in
 *   the package), decompression only: logway never produces zstd, so compress throws. It replaced
 *   fzstd, which allocated, zeroed and shifted the frame's whole window (2 MiB for librdkafka's
 *   level 3) for every batch: 230-260 µs for a 1 KB batch, where libzstd takes 17 µs, and 4 ms
 *   for a 1 MiB batch, where libzstd takes 0.7 ms (bench/kafka-codecs.ts).
 * Registered by ./kafkajs-patches when the first client is made (part of the Kafka client edge).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import * as lz4js from 'lz4js';
import * as zstdWasm from '@bokuweb/zstd-wasm';

/** The interface kafkajs calls a codec through (kafkajs/src/protocol/message/compression). */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** A Buffer over a decoder's Uint8Array without a copy (kafkajs's Decoder reads Buffers). */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** A decoder error names the codec: the crash report then says which kind of batch failed. */
function named(codec: string, fn: (b: Buffer) => Buffer | Promise<Buffer>): (b: Buffer) => Promise<Buffer> {
  return async (b) => {
    try {
      return await fn(b);
    } catch (e) {
      throw new Error(`${codec} decompression failed: ${(e as Error)?.message ?? String(e)}`);
    }
  };
}

const snappy = SnappyCodec();

/**
 * How much a gzip or zstd record batch may decompress to: FLOOR + RATIO x its compressed length,
 * at most CAP. The bound is per batch, but kafkajs decodes every batch of a partition's fetch
 * (fetch/v4/decodeMessages.js) and keeps all their records (slices of the decompressed buffers)
 * until the batch is handed over, so what matters is the sum over a fetch; a fixed cap alone let
 * 342 bytes of RLE blocks become 128 MiB, and 20 such batches (6.8 KB) 2.7 GB of RSS.
 * - RATIO 128: Akkeris/fluentd log JSON in Kafka records compresses 15-40x (zstd -3 or gzip; kcat
 *   batches here 1.1 KB -> 17 KB); even 1 MB of one identical 200-byte line, record framing
 *   included, is 56x with zstd. Only pathological input goes beyond (identical 1 KB lines 236x).
 * - FLOOR 8 KiB (~ 61 x RATIO): what a batch's own 61-byte header would buy at RATIO, so splitting
 *   a fetch into many tiny batches (61 + ~10 bytes each: a frame header and one RLE block) yields
 *   at most (8 KiB + 128 x 10) / 71 = 133x of the bytes fetched, about the same as RATIO; and
 *   small batches of very repetitive records (a 4 KB line of one character in ~25 bytes) pass.
 * - CAP 32 MiB: producers bound a batch to ~1 MB (librdkafka batch.size and message.max.bytes;
 *   Java max.request.size), uncompressed for librdkafka; the Java client's batch.size is counted
 *   compressed, so a tuned 1 MB Java batch at 30x is ~30 MB.
 * Worst case per fetch (records held at once): 133 x the fetched bytes, and one batch at most
 * CAP. Tail hub (maxBytesPerPartition 4 MiB, maxBytes kafkajs's 10 MiB): 532 MiB for one partition,
 * 1.3 GiB for a whole response; drain worker (1 MiB per partition, 10 MiB a response): 133 MiB a
 * partition, 1.3 GiB a response. (The broker sends a partition's first batch whole even when it
 * is larger than maxBytesPerPartition; that batch is still at most CAP.)
 * A batch beyond its bound is refused with an error naming the codec: zstd before anything is
 * allocated (zstdFrames), gzip as soon as zlib's output passes it (maxOutputLength). The error is
 * thrown inside kafkajs's fetch decoding; ./undecodable turns it into Batch.undecodable of
 * that partition alone, which lib/kafka/source quarantines (the other partitions keep flowing).
 */
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;
export const BATCH_RATIO = 128;
export const BATCH_FLOOR = 8 * 1024;
/** The most a batch of `compressed` bytes may decompress to. */
export const batchLimit = (compressed: number) => Math.min(MAX_BATCH_BYTES, BATCH_FLOOR + BATCH_RATIO * compressed);
function tooLarge(codec: string, compressed: number, limit: number): Error {
  const ratio = compressed ? `${Math.floor(limit / compressed)}x its compressed size of ${compressed} bytes` : 'it is empty';
  return new Error(`${codec} batch would decompress to more than ${limit} bytes (${ratio})`);
}
/**
 * kafkajs awaits the codec batch after batch, but a codec that answers synchronously never lets
 * the event loop turn: a whole partition's fetch decodes as one step (4 MiB of tiny hostile zstd
 * batches at their bound: 1.2 s). So once YIELD_BYTES have been decompressed since the last
 * yield, the next batch waits for one turn of the event loop first (setImmediate): ~8 MiB of
 * decoding between two turns (that fetch: longest stall 40 ms, median 20 ms; bench/kafka-codecs.ts
 * MODE=bounds). Real traffic (a few MB/s) pays one setImmediate per 8 MiB.
 */
const YIELD_BYTES = 8 * 1024 * 1024;
let decodedSinceYield = 0;
/** A promise to await when the event loop should turn first, else undefined (no await: no microtask hop per batch). */
function turnEvery(bytes: number): Promise<void> | undefined {
  decodedSinceYield += bytes;
  if (decodedSinceYield < YIELD_BYTES) return undefined;
  decodedSinceYield = bytes;
  return new Promise((resolve) => setImmediate(resolve));
}

/** RFC 8878 §3.1.1.2.4: no block decompresses to more than min(Window_Size, 128 KiB). */
const ZSTD_BLOCK_MAX = 128 * 1024;
/** libzstd compiled for 32 bits (the WebAssembly build) refuses larger windows (ZSTD_WINDOWLOG_MAX_32). */
const ZSTD_WINDOW_LOG_MAX = 30;

/**
 * One zstd frame of a batch: its compressed bytes [start, end), the most its output can be
 * (capacity) and the least (least: what its header or its raw and RLE blocks say for sure).
 */
interface ZstdFrame {
  start: number;
  end: number;
  capacity: number;
  least: number;
}

/**
 * Walks the frames of a zstd input (RFC 8878 §3.1) without decoding them: zstd frames, whose
 * output is at most their declared Frame_Content_Size or, when they declare none (librdkafka and
 * the Java client do not), the sum of their blocks' bounds (raw and RLE blocks say their size, a
 * compressed block is at most Block_Maximum_Size); skippable frames are dropped. Throws on a
 * truncated or malformed header, a window libzstd would refuse, a block larger than
 * Block_Maximum_Size (libzstd itself takes raw and RLE blocks up to 2^21-1 bytes: the spec's limit
 * keeps a block at most 32,768 times its 4 bytes), and when the whole would certainly exceed
 * `limit` bytes: its declared content sizes and raw and RLE blocks (a compressed block counts as
 * one byte more than its compressed size, the least it decompresses to).
 */
export function zstdFrames(b: Uint8Array, limit = batchLimit(b.length)): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  let total = 0;
  let p = 0;
  while (p < b.length) {
    if (p + 4 > b.length) throw truncated();
    const magic = u32(b, p);
    if (magic >>> 4 === 0x184d2a5) {
      // Skippable frame: magic, 4-byte size, that many bytes of user data.
      if (p + 8 > b.length) throw truncated();
      p += 8 + u32(b, p + 4);
      if (p > b.length) throw truncated();
      continue;
    }
    if (magic !== 0xfd2fb528) throw new Error(`not a zstd frame (magic 0x${magic.toString(16)} at byte ${p})`);
    const header = zstdFrameHeader(b, p);
    const blocks = zstdBlocks(b, header.end, Math.min(header.window, ZSTD_BLOCK_MAX));
    let q = blocks.end;
    if (header.checksum) q += 4; // Content_Checksum
    if (q > b.length) throw truncated();
    const fcs = header.contentSize;
    if (fcs > blocks.bound) throw new Error(`zstd frame declares ${fcs} bytes but its blocks hold at most ${blocks.bound}`);
    const capacity = fcs >= 0 ? fcs : blocks.bound;
    const least = fcs >= 0 ? fcs : blocks.least;
    total += least;
    if (total > limit) throw tooLarge('zstd', b.length, limit);
    frames.push({ start: p, end: q, capacity, least });
    p = q;
  }
  return frames;
}

const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const truncated = () => new Error('truncated zstd frame');

/** The header of the zstd frame at `p` (RFC 8878 §3.1.1.1): where its blocks start, its window, its content size (-1: none). */
function zstdFrameHeader(b: Uint8Array, p: number): { end: number; window: number; contentSize: number; checksum: boolean } {
  if (p + 6 > b.length) throw truncated();
  const fhd = b[p + 4];
  if (fhd & 8) throw new Error('zstd frame header has its reserved bit set');
  const singleSegment = (fhd >> 5) & 1;
  const fcsBytes = fhd >> 6 ? 1 << (fhd >> 6) : singleSegment;
  let q = p + 5;
  let window = 0;
  if (!singleSegment) {
    const wd = b[q++];
    if (10 + (wd >> 3) > ZSTD_WINDOW_LOG_MAX) throw new Error(`zstd frame window of 2^${10 + (wd >> 3)} bytes is too large`);
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  q += [0, 1, 2, 4][fhd & 3]; // Dictionary_ID
  let fcs = -1;
  if (fcsBytes) {
    if (q + fcsBytes > b.length) throw truncated();
    fcs = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + b[q + i];
    if (fcsBytes === 2) fcs += 256;
    q += fcsBytes;
    if (singleSegment) window = fcs;
  }
  return { end: q, window, contentSize: fcs, checksum: ((fhd >> 2) & 1) === 1 };
}

/** The blocks of a frame from `q` to its last block: where they end, the most (bound) and least they decompress to. */
function zstdBlocks(b: Uint8Array, q: number, blockMax: number): { end: number; bound: number; least: number } {
  let bound = 0;
  let least = 0;
  for (let last = 0; !last;) {
    if (q + 3 > b.length) throw truncated();
    const header = b[q] | (b[q + 1] << 8) | (b[q + 2] << 16);
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    last = header & 1;
    if (type === 3) throw new Error('zstd block of the reserved type');
    if (size > blockMax) throw new Error(`zstd block of ${size} bytes is larger than the frame's block maximum (${blockMax})`);
    // Raw: size bytes follow; RLE: one byte, repeated size times; compressed: size bytes in.
    bound += type === 2 ? blockMax : size;
    // RFC 8878 §3.1.1.2.3: a compressed block decompresses to more than its compressed size.
    least += type === 2 ? size + 1 : size;
    q += 3 + (type === 1 ? 1 : size);
    if (q > b.length) throw truncated();
  }
  return { end: q, bound, least };
}

let zstdReady: Promise<void> | undefined;
let zstdLoaded = false;

/**
 * Loads libzstd once per process. Only once: a second zstdWasm.init() after the WebAssembly memory
 * has grown leaves the binding reading and writing a stale view (every frame then fails with
 * "unknown frame type"; measured with 1.0.x), so anything else in the process that needs the
 * binding (the unit tests' compressor) loads it through here.
 */
export function loadZstd(): Promise<void> {
  return (zstdReady ??= zstdWasm.init().then(
    () => {
      zstdLoaded = true;
    },
    (e: unknown) => {
      zstdReady = undefined; // a failed load is retried on the next batch
      throw e;
    },
  ));
}

/** libzstd's error codes (zstd_errors.h) that a bad batch produces, by what the binding returns. */
const ZSTD_ERRORS: Record<number, string> = {
  [-10]: 'unknown frame type (prefix_unknown)',
  [-14]: 'unsupported frame parameter (frameParameter_unsupported)',
  [-16]: 'window too large (frameParameter_windowTooLarge)',
  [-20]: 'corrupt data (corruption_detected)',
  [-22]: 'checksum wrong (checksum_wrong)',
  [-30]: 'corrupt entropy tables (dictionary_corrupted)',
  [-32]: 'needs a dictionary (dictionary_wrong)',
  [-64]: 'out of memory (memory_allocation)',
  [-70]: 'output larger than the frame allows (dstSize_tooSmall)',
  [-72]: 'input size wrong: a frame truncated or followed by garbage (srcSize_wrong)',
};

/** One frame through libzstd; the binding's "Failed to compress with code N" becomes libzstd's reason. */
function zstdFrame(frame: Uint8Array, capacity: number): Uint8Array {
  try {
    // defaultHeapSize is the output capacity used when a frame declares no content size.
    return zstdWasm.decompress(frame, { defaultHeapSize: capacity });
  } catch (e) {
    const code = /code (-?\d+)/.exec((e as Error)?.message ?? '');
    if (!code) throw e;
    throw new Error(ZSTD_ERRORS[Number(code[1])] ?? `zstd error ${code[1]}`);
  }
}

/**
 * Decompresses a zstd batch: every frame (with or without a content size), skippable frames
 * skipped, into one Buffer. Each frame is decoded by libzstd into a buffer of exactly its declared
 * size, or of what its blocks can hold but at most what is left of the batch's bound; a frame that
 * would write more fails (dstSize_tooSmall), never overruns. zstdFrames has already refused, before
 * anything is allocated, a batch whose content sizes or raw and RLE blocks alone pass the bound.
 * Synchronous: libzstd is one WebAssembly call, and the batch bound keeps it short (a CAP batch of
 * log JSON took 45-55 ms here, 32 MiB of RLE blocks 26-30 ms). The WebAssembly memory grows to
 * hold a frame's input and output at once and never shrinks: it stays at about its initial
 * 16 MiB + CAP + the largest frame's compressed size (measured: 16 -> 39 MiB after a CAP batch).
 */
function zstdDecompress(b: Buffer): Buffer | Promise<Buffer> {
  const limit = batchLimit(b.length);
  const frames = zstdFrames(b, limit);
  const turn = turnEvery(
    Math.min(
      limit,
      frames.reduce((n, f) => n + f.capacity, 0),
    ),
  );
  // Synchronous in the common case (loaded, no turn due): no extra microtask hops per batch.
  if (!zstdLoaded || turn) return Promise.all([loadZstd(), turn]).then(() => zstdFramesOut(b, frames, limit));
  return zstdFramesOut(b, frames, limit);
}

function zstdFramesOut(b: Buffer, frames: ZstdFrame[], limit: number): Buffer {
  const out: Uint8Array[] = [];
  let left = limit;
  for (const f of frames) {
    // A frame with a content size gets exactly that (zstdFrames made sure they all fit); one
    // without gets what its blocks can hold, but no more than the batch has left: a compressed
    // block may hold up to 128 KiB, so a small batch's capacity would be far above its bound.
    const capacity = Math.min(f.capacity, left);
    let frame: Uint8Array;
    try {
      frame = zstdFrame(b.subarray(f.start, f.end), capacity);
    } catch (e) {
      if (capacity < f.capacity && e instanceof Error && e.message === ZSTD_ERRORS[-70]) throw tooLarge('zstd', b.length, limit);
      throw e;
    }
    out.push(frame);
    left -= frame.length;
  }
  return out.length === 1 ? asBuffer(out[0]) : Buffer.concat(out);
}

/**
 * The most gzip output decoded in one synchronous step. A producer's batch is at most ~1 MB
 * uncompressed, so real batches decode in one zlib.unzipSync call (~1-2 ms for 1 MiB); a batch
 * that inflates beyond this is decoded again with the asynchronous zlib.unzip, whose inflating runs
 * on the thread pool, so a 32 MiB batch never holds the event loop for more than the ~4 ms of the
 * first 2 MiB (a batch of up to 16 KiB compressed has a bound of at most 2 MiB: always one step).
 */
export const GZIP_SYNC_BYTES = 2 * 1024 * 1024;

const isTooLarge = (e: unknown) => (e as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE';

function gunzip(b: Buffer): Buffer | Promise<Buffer> {
  // Before decoding, the output is not known: its compressed size stands for it (x 20, what log JSON compresses).
  const turn = turnEvery(Math.min(batchLimit(b.length), 20 * b.length));
  return turn ? turn.then(() => gunzipNow(b)) : gunzipNow(b);
}

function gunzipNow(b: Buffer): Buffer | Promise<Buffer> {
  const limit = batchLimit(b.length);
  try {
    return zlib.unzipSync(b, { maxOutputLength: Math.min(limit, GZIP_SYNC_BYTES) });
  } catch (e) {
    if (!isTooLarge(e)) throw e;
    if (limit <= GZIP_SYNC_BYTES) throw tooLarge('gzip', b.length, limit);
  }
  return new Promise((resolve, reject) =>
    zlib.unzip(b, { maxOutputLength: limit }, (e, out) => (e ? reject(isTooLarge(e) ? tooLarge('gzip', b.length, limit) : e) : resolve(out))),
  );
}

const gzip = promisify(zlib.gzip);

export const codecs: Record<'gzip' | 'snappy' | 'lz4' | 'zstd', KafkaCodec> = {
  gzip: {
    compress: (encoder) => gzip(encoder.buffer),
    // unzip, as kafkajs: gzip or zlib-wrapped deflate, whichever the header says.
    decompress: named('gzip', gunzip),
  },
  snappy: {
    compress: (encoder) => snappy.compress(encoder),
    decompress: named('snappy', (b) => snappy.decompress(b)),
  },
  lz4: {
    compress: async (encoder) => asBuffer(lz4js.compress(encoder.buffer)),
    decompress: named('lz4', (b) => asBuffer(lz4js.decompress(b))),
  },
  zstd: {
    compress: async () => {
      throw new Error('zstd compression is not available in logway (it only reads zstd batches)');
    },
    decompress: named('zstd', zstdDecompress),
  },
};

/** Registers gzip, snappy, lz4 and zstd with kafkajs (process-wide; idempotent). */
export function registerCompressionCodecs(): void {
  CompressionCodecs[CompressionTypes.GZIP] = () => codecs.gzip;
  CompressionCodecs[CompressionTypes.Snappy] = () => codecs.snappy;
  CompressionCodecs[CompressionTypes.LZ4] = () => codecs.lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = () => codecs.zstd;
}
