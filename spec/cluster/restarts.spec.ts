/**
 * Restarts under load. All three nodes SIGKILLed at once and started again: the drains resume from
 * the committed offsets, no line lost. Rolling restart (SIGTERM one node at a time, start it again,
 * next): every SSE stream the stopping node served ends cleanly (never cut), and no drained line is lost.
 */
import { Core, closeCore } from '../../lib/core';
import { DlqStore } from '../../drains/dlq';
import { uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';
import { LogwayNode, postJson, report, SseReader } from './helpers/cluster';
import { addDrains, startDrainScene, parked, produceLines, Sink, tallyLines, warmUp } from './helpers/drains';

const TOTAL = Number(process.env.CLUSTER_RESTART_LINES ?? 30_000);

let core: Core;
let dlq: DlqStore;
let sink: Sink;
let drainIds: string[] = [];
const nodes = [new LogwayNode('r1'), new LogwayNode('r2'), new LogwayNode('r3')];
const space = uniqueName('rr');
const apps = Array.from({ length: 3 }, (_, i) => `rr${i}${uniqueName('a')}`);

beforeAll(async () => {
  ({ core, dlq, sink } = await startDrainScene(space, nodes));
  drainIds = await addDrains(core, nodes[0].base, space, apps, sink.url);
  await warmUp(core, sink, space, apps);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
  await sink?.close();
  if (core) await closeCore(core);
});

it('all nodes SIGKILLed at once and restarted: drains resume from committed offsets, nothing lost', async () => {
  const tag = uniqueName('ar');
  let sent = 0;
  const producing = produceLines(core, { space, apps, tag, count: TOTAL, chunk: 1000, pauseMs: 50, onChunk: (n) => (sent = n) });
  await waitFor('a third produced and some delivered', async () => sent >= TOTAL / 3 && sink.delivered(tag).length > 0, 120_000, 20);
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  const atKill = sink.delivered(tag).length;
  const produced = await producing; // lines keep coming while no node runs
  await Promise.all(nodes.map((n) => n.start()));
  let t = tallyLines(produced, [], []);
  await waitFor(
    'every line delivered or parked',
    async () => (t = tallyLines(produced, sink.delivered(tag), await parked(dlq, drainIds))).missing === 0,
    200_000,
    500,
  );
  report('all nodes restart at once', {
    produced: t.produced,
    delivered: t.delivered,
    parked: t.parked,
    duplicates: t.duplicates,
    'delivered before the kill': atKill,
  });
  expect(t.unexpected).toBe(0);
  expect(t.delivered + t.parked).toBe(t.produced);
  // Resumed from the commits, not from the topic's start.
  expect(t.duplicates).toBeLessThanOrEqual(atKill);
});

it('rolling restart under load (SIGTERM one at a time): streams end cleanly, no line lost', async () => {
  for (const n of nodes) await waitFor(`${n.name} ready`, async () => (await n.ready()).status === 200, 60_000, 250);
  const tag = uniqueName('rl');
  let stop = false;
  let from = 0;
  const produced: string[] = [];
  const flowing = (async () => {
    while (!stop) {
      produced.push(...(await produceLines(core, { space, apps, tag, count: 300, from, chunk: 300 })));
      from += 300;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const ended: string[] = [];
  for (const n of nodes) {
    // A tail on the node about to stop: SIGTERM must end it cleanly (the client then resumes elsewhere).
    const s = await postJson(`${n.base}/apps/${apps[0]}-${space}/log-sessions`, { lines: 1, tail: true });
    expect(s.status).toBe(201);
    const tail = new SseReader(String(s.body.logplex_url));
    await waitFor('tail open', async () => tail.events.length >= 1, 30_000, 100);
    const code = await n.stop('SIGTERM');
    await tail.finished();
    ended.push(tail.ended ?? 'open');
    expect(code.code).toBe(0);
    await n.start();
    await waitFor(`${n.name} ready again`, async () => (await n.ready()).status === 200, 60_000, 250);
  }
  stop = true;
  await flowing;
  let t = tallyLines(produced, [], []);
  await waitFor(
    'every line delivered or parked',
    async () => (t = tallyLines(produced, sink.delivered(tag), await parked(dlq, drainIds))).missing === 0,
    200_000,
    500,
  );
  report('rolling restart', { produced: t.produced, delivered: t.delivered, parked: t.parked, duplicates: t.duplicates, 'streams ended': ended.join('/') });
  expect(ended).toEqual(['clean', 'clean', 'clean']);
  expect(t.unexpected).toBe(0);
  expect(t.delivered + t.parked).toBe(t.produced);
});
