/** Types for the untyped pure-JS compression packages lib/kafka/codecs.ts registers with kafkajs. */
declare module 'kafkajs-snappy' {
  interface SnappyCodec {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  }
  const createSnappyCodec: () => SnappyCodec;
  export = createSnappyCodec;
}

declare module 'lz4js' {
  /** One LZ4 frame (magic 0x184D2204) → its content. */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Bytes → one LZ4 frame (64 KB blocks, no checksums). */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
}
