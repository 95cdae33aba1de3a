/**
 * Three logway nodes share the drain consumer group over a 6-partition topic; one TLS syslog drain
 * per app. Lines are produced while one node is SIGKILLed mid-delivery: every line is delivered or
 * parked (produced = delivered + parked), duplicates are counted and bounded by what was delivered
 * before the kill, and the two survivors deliver the dead node's partitions.
 * The three nodes start together on an empty database: migrations run once, every node ready.
 */
import { Core, closeCore } from '../../lib/core';
import { DlqStore } from '../../drains/dlq';
import { uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';
import { LogwayNode, report } from './helpers/cluster';
import { addDrains, startDrainScene, parked, produceLines, Sink, tallyLines, warmUp } from './helpers/drains';
import { listMigrations } from '../../lib/migrate';

const TOTAL = Number(process.env.CLUSTER_LINES ?? 100_000);

let core: Core;
let dlq: DlqStore;
let sink: Sink;
const nodes = [new LogwayNode('d1'), new LogwayNode('d2'), new LogwayNode('d3')];
const space = uniqueName('nd');
const apps = Array.from({ length: 6 }, (_, i) => `nd${i}${uniqueName('a')}`);

beforeAll(async () => {
  ({ core, dlq, sink } = await startDrainScene(space, nodes, { startNodes: false }));
});

afterAll(async () => {
  // SIGTERM: the survivors leave the drain group now, so the next file's nodes do not wait out their session.
  await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
  await sink?.close();
  if (core) await closeCore(core);
});

it('three nodes started together on an empty database migrate it once and all become ready', async () => {
  await Promise.all(nodes.map((n) => n.start()));
  for (const n of nodes) await waitFor(`${n.name} ready`, async () => (await n.ready()).status === 200, 60_000, 250);
  const rows = await core.db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  expect(rows.map((r) => r.name)).toEqual(listMigrations());
});

it('loses nothing when a node is SIGKILLed mid-delivery; the survivors take its partitions', async () => {
  const drainIds = await addDrains(core, nodes[0].base, space, apps, sink.url);
  // Every node's worker has the drains before the lines come (a probe per app arrives).
  await warmUp(core, sink, space, apps);

  const tag = uniqueName('nd');
  let killedAt = 0;
  let atKill = 0;
  const victim = nodes[1];
  const producing = produceLines(core, { space, apps, tag, count: TOTAL, chunk: 2000 });
  await waitFor('a third delivered', async () => sink.delivered(tag).length >= TOTAL / 3, 180_000, 50);
  atKill = sink.delivered(tag).length;
  await victim.stop('SIGKILL');
  expect(atKill).toBeLessThan(TOTAL);
  killedAt = Date.now();
  const produced = await producing;

  let last = tallyLines(produced, [], []);
  await waitFor(
    'every line delivered or parked',
    async () => {
      last = tallyLines(produced, sink.delivered(tag), await parked(dlq, drainIds));
      return last.missing === 0;
    },
    200_000,
    500,
  );
  const complete = Date.now() - killedAt;
  const t = tallyLines(produced, sink.delivered(tag), await parked(dlq, drainIds));
  report('node death during drains', {
    produced: t.produced,
    delivered: t.delivered,
    parked: t.parked,
    duplicates: t.duplicates,
    'delivered before the kill': atKill,
    'kill → all delivered (ms)': complete,
  });
  expect(t.unexpected).toBe(0);
  expect(t.missing).toBe(0);
  expect(t.delivered + t.parked).toBe(t.produced);
  // Resent lines are those the dead node had delivered but not yet committed: never everything.
  expect(t.duplicates).toBeLessThanOrEqual(atKill);
  // The survivors are still the group (both alive and ready).
  for (const n of [nodes[0], nodes[2]]) expect((await n.ready()).status).toBe(200);
});
