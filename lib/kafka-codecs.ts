/**
 * Kafka's compression codecs for kafkajs, which ships only gzip: without these, one snappy, lz4 or
 * zstd batch anywhere in a fetch fails the whole fetch ("ZSTD compression not implemented") and
 * the consumer crash-loops for every topic it reads. fluentd, Vector and librdkafka producers
 * commonly compress with them.
 *
 * Pure-JS packages only (no native build, nothing fetched at install time):
 * - snappy: kafkajs-snappy (snappyjs), which reads both raw snappy (librdkafka) and the xerial
 *   framing the Java client writes;
 * - lz4: lz4js, the LZ4 frame format Kafka uses since record batch v2 (magic 2);
 * - zstd: fzstd, decompression only. logway never produces zstd, so compress throws.
 * Only lib/kafka.ts imports this module (it is part of the Kafka client edge).
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import * as lz4js from 'lz4js';
import * as fzstd from 'fzstd';

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

export const codecs: Record<'snappy' | 'lz4' | 'zstd', KafkaCodec> = {
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
    decompress: named('zstd', (b) => asBuffer(fzstd.decompress(b))),
  },
};

/** Registers snappy, lz4 and zstd with kafkajs (process-wide; idempotent). */
export function registerCompressionCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => codecs.snappy;
  CompressionCodecs[CompressionTypes.LZ4] = () => codecs.lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = () => codecs.zstd;
}
