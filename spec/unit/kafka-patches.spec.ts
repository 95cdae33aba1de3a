/**
 * lib/kafka/kafkajs-patches.ts: the codecs and the undecodable-batch patch are installed by the
 * client factory, only over the kafkajs version they were written against, which package.json pins.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { codecs } from '../../lib/kafka/codecs';
import { installKafkajsPatches, KAFKAJS_VERSION } from '../../lib/kafka/kafkajs-patches';
import { DECODE_MESSAGES } from '../../lib/kafka/undecodable';

const ROOT = path.resolve(__dirname, '../..');
const manifest = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));

describe('installKafkajsPatches', () => {
  it('knows the kafkajs that package.json pins exactly and node_modules holds', () => {
    expect(manifest('package.json').dependencies.kafkajs).toBe(KAFKAJS_VERSION);
    expect(manifest('node_modules/kafkajs/package.json').version).toBe(KAFKAJS_VERSION);
  });

  it('refuses another kafkajs version, naming both, and installs nothing', () => {
    expect(() => installKafkajsPatches('2.3.0')).toThrow(/patches kafkajs 2\.2\.4 .* but kafkajs 2\.3\.0 is installed/);
    expect(() => CompressionCodecs[CompressionTypes.ZSTD]()).toThrow(/not implemented/i);
  });

  it('installs the codecs and the fetch patch once, however often it is called', () => {
    const original = require.cache[DECODE_MESSAGES]?.exports;
    installKafkajsPatches();
    const patched = require.cache[DECODE_MESSAGES]?.exports;
    expect(patched).not.toBe(original);
    expect(CompressionCodecs[CompressionTypes.ZSTD]()).toBe(codecs.zstd);
    expect(CompressionCodecs[CompressionTypes.Snappy]()).toBe(codecs.snappy);
    installKafkajsPatches();
    expect(require.cache[DECODE_MESSAGES]?.exports).toBe(patched);
  });
});
