/**
 * Restart: a logway node is stopped and a new one started (cold: empty rings). New sessions
 * still get the right history (read back from Kafka), and an SSE client of the old node resumes
 * on the new one with Last-Event-ID, missing nothing and repeating nothing.
 */
import http from 'node:http';
import request from 'supertest';
import { closeCore, Core } from '../../lib/core';
import { increasingTimes, produceAppLines } from '../helpers/app-message';
import { createTestCore, uniqueName, authHeader } from '../helpers/env';
import { TailNode } from '../helpers/tail-node';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

/** GETs a stream until `until` holds on the text read so far (or the response ends), then closes it. */
function read(
  url: string,
  headers: Record<string, string>,
  until: (text: string) => boolean = () => false,
  ms = 20000,
): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`timed out; read:\n${text.slice(-1500)}`));
    }, ms);
    const req = http.get(url, { headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (until(text)) {
          clearTimeout(timer);
          req.destroy();
          resolve({ text, ended: false });
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ text, ended: true });
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('log sessions across a logway restart', () => {
  const space = uniqueName('rs');
  const app = uniqueName('r');
  const key = `${app}-${space}`;
  let node: TailNode | undefined;
  const nextTime = increasingTimes();
  /** Through `core`: while no node runs, lines are written by a plain client. */
  const produce = (core: Core, logs: string[]) => produceAppLines(core.kafka, space, app, logs, nextTime);

  afterAll(async () => {
    await node?.stop();
  });

  async function createSession(n: TailNode, body: object): Promise<string> {
    const res = await request(n.server).post(`/apps/${key}/log-sessions`).set(authHeader).send(body);
    expect(res.status).toBe(201);
    return res.body.logplex_url;
  }

  it("a new node serves correct history and resumes an old node's SSE stream", async () => {
    node = await TailNode.start({ space, feature: { reading: 'every-topic' } });
    const first = await produce(node.core, ['one', 'two', 'three']);
    await waitFor('the lines in the hub', async () => (await node!.core.apps.find(key)) && node!.feature.hub.rings.peek(key)?.size === 3);

    const url = await createSession(node, { lines: 2, tail: true });
    const sse = await read(url, { Accept: 'text/event-stream' }, (t) => t.includes(`data: ${first[2]}\n\n`));
    const ids = sse.text.split('\n').filter((l) => l.startsWith('id: '));
    expect(sse.text.split('\n').filter((l) => l.startsWith('data: '))).toEqual(first.slice(1).map((l) => `data: ${l}`));
    const lastId = ids[ids.length - 1].slice(4);

    await node.stop();
    node = undefined;
    // Lines written while no logway runs.
    const core = createTestCore();
    const whileDown = await produce(core, ['four', 'five']);
    await closeCore(core);

    node = await TailNode.start({ space, feature: { reading: 'every-topic' } });
    const hist = await read(await createSession(node, { lines: 4, tail: false }), {});
    expect(hist.ended).toBe(true);
    expect(hist.text).toBe([...first.slice(1), ...whileDown].map((l) => `${l}\n`).join(''));

    // The old node's client comes back to the new node: only what it missed, then live lines.
    // Any node serves any session: the token is the session. Same URL path, the new node's address.
    const resumed = read(url.replace(/^http:\/\/[^/]+/, node.base), { Accept: 'text/event-stream', 'Last-Event-ID': lastId }, (t) => t.includes('six'));
    await waitFor('the resumed session', () => node!.feature.sessions.size === 1);
    const live = await produce(node.core, ['six']);
    const r = await resumed;
    expect(r.text.split('\n').filter((l) => l.startsWith('data: '))).toEqual([...whileDown, ...live].map((l) => `data: ${l}`));
  });
});
