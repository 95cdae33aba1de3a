/**
 * Kafka's compression codecs for kafkajs, which ships only gzip: without these, one snappy, lz4 or
 * zstd batch anywhere in a fetch fails the whole fetch ("ZSTD compression not implemented") and
 * the consumer crash-loops for every topic it reads. fluentd, Vector and librdkafka producers
 * commonly compress with them.
 *
 * gzip is Node's zlib, registered here in place of kafkajs's own codec, which decodes with the
 * async zlib.unzip: its thread-pool round trip per 16 KiB chunk cost 60-100 µs of main-thread time
 * for a 1 KB batch (zlib.unzipSync: 20 µs) and, with the copies, more main-thread time than
 * unzipSync for a 1 MiB batch too (bench/kafka-codecs.ts); nor did it bound the output.
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
 * Only lib/kafka.ts imports this module (it is part of the Kafka client edge).
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
 * The most a gzip or zstd record batch may decompress to. A batch is at most the broker's
 * message.max.bytes compressed (1 MiB by default); Akkeris JSON compresses ~16-20x, so a real batch
 * decompresses to tens of MiB at most. A batch that would exceed this fails alone instead of the
 * process: zstd is refused before anything is allocated (a few bytes can declare gigabytes, or
 * thousands of 3-byte RLE blocks of 128 KiB each), gzip stops at the limit (zlib's maxOutputLength).
 */
export const MAX_BATCH_BYTES = 128 * 1024 * 1024;
/** RFC 8878 §3.1.1.2.4: no block decompresses to more than min(Window_Size, 128 KiB). */
const ZSTD_BLOCK_MAX = 128 * 1024;

/** One zstd frame of a batch: its compressed bytes [start, end) and the capacity its output needs. */
interface ZstdFrame {
  start: number;
  end: number;
  capacity: number;
}

/**
 * Walks the frames of a zstd input (RFC 8878 §3.1) without decoding them: zstd frames, whose
 * output is at most their declared Frame_Content_Size or, when they declare none (librdkafka and
 * the Java client do not), the sum of their blocks' bounds (raw and RLE blocks say their size, a
 * compressed block is at most Block_Maximum_Size); skippable frames are dropped. Throws on a
 * truncated or malformed header and when the whole would exceed `limit` bytes.
 */
export function zstdFrames(b: Uint8Array, limit = MAX_BATCH_BYTES): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  const u32 = (i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  const truncated = () => new Error('truncated zstd frame');
  let total = 0;
  let p = 0;
  while (p < b.length) {
    if (p + 4 > b.length) throw truncated();
    const magic = u32(p);
    if (magic >>> 4 === 0x184d2a5) {
      // Skippable frame: magic, 4-byte size, that many bytes of user data.
      if (p + 8 > b.length) throw truncated();
      p += 8 + u32(p + 4);
      if (p > b.length) throw truncated();
      continue;
    }
    if (magic !== 0xfd2fb528) throw new Error(`not a zstd frame (magic 0x${magic.toString(16)} at byte ${p})`);
    if (p + 6 > b.length) throw truncated();
    const fhd = b[p + 4];
    if (fhd & 8) throw new Error('zstd frame header has its reserved bit set');
    const singleSegment = (fhd >> 5) & 1;
    const fcsBytes = fhd >> 6 ? 1 << (fhd >> 6) : singleSegment;
    let q = p + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = b[q++];
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
    const blockMax = Math.min(window, ZSTD_BLOCK_MAX);
    let bound = 0;
    for (let last = 0; !last;) {
      if (q + 3 > b.length) throw truncated();
      const header = b[q] | (b[q + 1] << 8) | (b[q + 2] << 16);
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      last = header & 1;
      if (type === 3) throw new Error('zstd block of the reserved type');
      // Raw: size bytes follow; RLE: one byte, repeated size times; compressed: size bytes in.
      bound += type === 2 ? blockMax : size;
      q += 3 + (type === 1 ? 1 : size);
      if (q > b.length) throw truncated();
    }
    if ((fhd >> 2) & 1) q += 4; // Content_Checksum
    if (q > b.length) throw truncated();
    if (fcs > bound) throw new Error(`zstd frame declares ${fcs} bytes but its blocks hold at most ${bound}`);
    const capacity = fcs >= 0 ? fcs : bound;
    total += capacity;
    if (total > limit) throw new Error(`zstd batch would decompress to more than ${limit} bytes (MAX_BATCH_BYTES)`);
    frames.push({ start: p, end: q, capacity });
    p = q;
  }
  return frames;
}

let zstdReady: Promise<void> | undefined;

/**
 * Decompresses a zstd batch: every frame (with or without a content size), skippable frames
 * skipped, into one Buffer. Each frame is decoded by libzstd into a buffer of exactly the capacity
 * zstdFrames allowed it; a frame that would write more fails (dstSize_tooSmall), never overruns.
 */
async function zstdDecompress(b: Buffer): Promise<Buffer> {
  const frames = zstdFrames(b);
  await (zstdReady ??= zstdWasm.init().catch((e: unknown) => {
    zstdReady = undefined; // a failed load is retried on the next batch
    throw e;
  }));
  // defaultHeapSize is the output capacity used when a frame declares no content size.
  const out = frames.map((f) => zstdWasm.decompress(b.subarray(f.start, f.end), { defaultHeapSize: f.capacity }));
  return out.length === 1 ? asBuffer(out[0]) : Buffer.concat(out);
}

const gzip = promisify(zlib.gzip);

export const codecs: Record<'gzip' | 'snappy' | 'lz4' | 'zstd', KafkaCodec> = {
  gzip: {
    compress: (encoder) => gzip(encoder.buffer),
    // unzip, as kafkajs: gzip or zlib-wrapped deflate, whichever the header says.
    decompress: named('gzip', (b) => zlib.unzipSync(b, { maxOutputLength: MAX_BATCH_BYTES })),
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
