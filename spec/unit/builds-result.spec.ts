import { PassThrough } from 'node:stream';
import { writeBuildResult } from '../../lib/builds/result';
import type { StoredLine } from '../../lib/builds/store';

function row(message: string, offset: number): StoredLine {
  return { ts: '1700000000000', partition: 0, offset: String(offset), message };
}

async function* pagesOf(...pages: StoredLine[][]): AsyncGenerator<StoredLine[]> {
  for (const p of pages) yield p;
}

async function collect(pages: AsyncIterable<StoredLine[]> | null, highWaterMark = 16): Promise<{ body: string; count: number }> {
  const out = new PassThrough({ highWaterMark });
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const head = {
    id: '8f1e6d4e-0d3c-4f7e-9a51-2f0e4b8c1a22',
    status: 'succeeded' as const,
    output_stream_url: 'http://x/apps/a-s/builds/8f1e6d4e-0d3c-4f7e-9a51-2f0e4b8c1a22/result',
  };
  const count = await writeBuildResult(out, head, pages);
  out.end();
  await new Promise((r) => out.on('end', r));
  return { body: Buffer.concat(chunks).toString('utf8'), count };
}

describe('writeBuildResult', () => {
  it('streams valid JSON with stripped lines in page order, escaping what JSON needs', async () => {
    const { body, count } = await collect(
      pagesOf(
        [row('Sending build context to Docker daemon 2kB', 1), row('Step 1/2 : FROM node', 2), row(' ---> abc', 3)],
        [row('say "hi" \\ \u0001 ünï', 4), row('line1\n\nline2', 5), row('Finished: SUCCESS', 6)],
      ),
      8,
    );
    const parsed = JSON.parse(body);
    expect(parsed.build.status).toBe('succeeded');
    expect(parsed.lines).toEqual(['Step 1/2 : FROM node', 'say "hi" \\ \u0001 ünï', 'line1', 'line2', 'Finished: SUCCESS']);
    expect(count).toBe(5);
  });

  it('writes an empty lines array when there are no pages (queued) or only noise', async () => {
    expect(JSON.parse((await collect(null)).body).lines).toEqual([]);
    expect(JSON.parse((await collect(pagesOf([row('+ set -x', 1)]))).body).lines).toEqual([]);
  });

  it('stops with an error when the client has gone', async () => {
    const out = new PassThrough({ highWaterMark: 4 });
    out.destroy();
    await expect(writeBuildResult(out, { id: 'x', status: 'pending', output_stream_url: '' }, pagesOf([row('a', 1)]))).rejects.toThrow('client closed');
  });
});
