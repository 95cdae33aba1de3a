/**
 * GET .../builds/:id/result as a stream: the JSON head goes out at once, then the lines page by page,
 * so a 100,000-line build never becomes one huge string and the first byte does not wait for the last row.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Build, StoredLine } from './store';
import { visibleBuildLines } from './strip';

export interface ResultHead {
  id: string;
  status: Build['status'];
  output_stream_url: string;
}

/** Resolves when the writable can take more, or rejects if it closes first (the client left). */
async function drained(out: Writable): Promise<void> {
  if (out.destroyed) throw new Error('client closed');
  const ac = new AbortController();
  try {
    await Promise.race([
      once(out, 'drain', { signal: ac.signal }),
      once(out, 'close', { signal: ac.signal }).then(() => {
        throw new Error('client closed');
      }),
    ]);
  } finally {
    ac.abort();
  }
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed || out.writableEnded) throw new Error('client closed');
  if (!out.write(chunk)) await drained(out);
}

/**
 * `{"build":{"id","status","output_stream_url"},"lines":[...]}` — Akkeris's body. A queued build has
 * no lines yet (Akkeris answers `[]` without looking). Returns the number of lines written.
 */
export async function writeBuildResult(out: Writable, head: ResultHead, pages: AsyncIterable<StoredLine[]> | null): Promise<number> {
  // Read the first page before the head: a PostgreSQL failure here can still become a 503, not a cut 200.
  const iterator = pages?.[Symbol.asyncIterator]();
  let next = iterator ? await iterator.next() : undefined;
  await write(out, `{"build":${JSON.stringify(head)},"lines":[`);
  let count = 0;
  if (iterator) {
    for (; next && !next.done; next = await iterator.next()) {
      const page = next.value;
      let chunk = '';
      for (const row of page) {
        for (const line of visibleBuildLines(row.message)) {
          chunk += (count === 0 ? '' : ',') + JSON.stringify(line);
          count++;
        }
      }
      if (chunk) await write(out, chunk);
    }
  }
  await write(out, ']}');
  return count;
}
