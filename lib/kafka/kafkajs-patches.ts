/**
 * The two changes logway makes to kafkajs, process-wide: the snappy, lz4 and zstd codecs (./codecs;
 * kafkajs has only gzip, and one such batch crash-loops every consumer without them) and the
 * undecodable-batch fetch patch (./undecodable: a bad record batch ends its partition's batch as
 * FetchedBatch.undecodable instead of failing the fetch). The patch reaches into kafkajs's source
 * files by path, so it is written against one exact version, pinned in package.json.
 */
import { registerCompressionCodecs } from './codecs';
import { installUndecodableBatches } from './undecodable';

/** The kafkajs version ./undecodable and ./acks were written against. */
export const KAFKAJS_VERSION = '2.2.4';

let installed = false;

/**
 * Installs both (idempotent). Throws when the installed kafkajs is not KAFKAJS_VERSION, or when a
 * kafkajs consumer fetched before this ran (see installUndecodableBatches).
 */
export function installKafkajsPatches(found: string = kafkajsVersion()): void {
  if (found !== KAFKAJS_VERSION)
    throw new Error(
      `logway patches kafkajs ${KAFKAJS_VERSION} (lib/kafka/undecodable.ts reads its source files by path) but kafkajs ${found} is installed: ` +
        `install kafkajs@${KAFKAJS_VERSION} (package.json pins it), or check the patch against ${found} and change KAFKAJS_VERSION`,
    );
  if (installed) return;
  registerCompressionCodecs();
  installUndecodableBatches();
  installed = true;
}

function kafkajsVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed package's own manifest
  return (require('kafkajs/package.json') as { version: string }).version;
}
