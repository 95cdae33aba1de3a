/**
 * A log session created on node 1 is streamed (SSE, tail) from node 2 while lines flow; node 2 is
 * SIGKILLed mid-stream; the client resumes on node 3 with Last-Event-ID (any node serves any
 * session: the token is the session). Across the two connections every line arrives exactly once.
 */
import { Core, closeCore } from '../../lib/core';
import { uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';
import { clusterCore, LogwayNode, postJson, report, SseReader } from './helpers/cluster';
import { produceLines } from './helpers/drains';

let core: Core;
const nodes = [new LogwayNode('t1'), new LogwayNode('t2'), new LogwayNode('t3')];
const space = uniqueName('nt');
const app = uniqueName('t');
const key = `${app}-${space}`;

beforeAll(async () => {
  core = clusterCore();
  await core.kafka.createTopic(space, 6);
  await Promise.all(nodes.map((n) => n.start()));
  for (const n of nodes) await waitFor(`${n.name} ready`, async () => (await n.ready()).status === 200, 60_000, 250);
  await core.apps.register(key);
});

afterAll(async () => {
  // SIGTERM: the survivors leave the drain group now, so the next file's nodes do not wait out their session.
  await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
  if (core) await closeCore(core);
});

/** The message part of a rendered line (`<ts> <app-space> app[web.x]: <message>`). */
const message = (data: string) => data.slice(data.indexOf(']: ') + 3);

it('a client whose node dies resumes on another node with Last-Event-ID: no gap, no duplicate', async () => {
  const tag = uniqueName('tl');
  const before = await produceLines(core, { space, apps: [app], tag, count: 3 });
  const created = await postJson(`${nodes[0].base}/apps/${key}/log-sessions`, { lines: 3, tail: true });
  expect(created.status).toBe(201);
  const url = String(created.body.logplex_url);
  expect(url.startsWith(nodes[0].base)).toBe(true);

  const first = new SseReader(url.replace(nodes[0].base, nodes[1].base));
  await waitFor('history on node 2', async () => first.events.length >= 3, 30_000);

  // Lines keep flowing (three pods, so three partitions) through the kill and the reconnect.
  let stop = false;
  const flowing = (async () => {
    const out: string[] = [];
    for (let from = 3; !stop; from += 20) {
      out.push(...(await produceLines(core, { space, apps: [app], tag, count: 20, from, chunk: 20 })));
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  })();
  await waitFor('live lines on node 2', async () => first.events.length >= 300, 60_000);
  await nodes[1].stop('SIGKILL');
  await first.finished();
  const seenFirst = first.events.length;

  const lastId = first.lastId;
  expect(lastId).toBeDefined();
  const second = new SseReader(url.replace(nodes[0].base, nodes[2].base), { 'Last-Event-ID': lastId! });
  await waitFor('live lines on node 3', async () => second.events.length >= 300, 60_000);
  stop = true;
  const live = await flowing;
  const produced = [...before, ...live];
  const received = () => [...first.events, ...second.events].map((e) => message(e.data));
  await waitFor('every line on node 3', async () => new Set(received()).size >= produced.length, 60_000);
  second.close();

  const got = received();
  const duplicates = got.length - new Set(got).size;
  report('node death during a tail', {
    produced: produced.length,
    delivered: new Set(got).size,
    parked: 0,
    duplicates,
    'before the kill': seenFirst,
    'first stream ended': first.ended ?? 'open',
  });
  expect(first.ended).toBe('cut');
  expect(new Set(got)).toEqual(new Set(produced));
  expect(duplicates).toBe(0);
  expect(got.length).toBe(produced.length);
});
