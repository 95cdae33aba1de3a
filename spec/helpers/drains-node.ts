/** The drain specs' nodes: the drains feature on a test core, reading only its own space, in this process or in worker processes. */
import type express from 'express';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import type { Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature, DrainsOptions } from '../../drains/feature';
import { authHeader } from './env';
import { waitFor } from './wait';

export interface DrainsNode {
  feature: DrainsFeature;
  app: express.Express;
  space: string;
  /** 1 in this process, else the number of drain worker processes. */
  workers: number;
}

/** Creates `space` (3 partitions) and starts a drains feature reading it; `processes` > 0 runs the worker in that many processes. */
export async function startDrainsNode(core: Core, space: string, opts: DrainsOptions, processes = 0): Promise<DrainsNode> {
  await core.kafka.createTopic(space, 3);
  const feature = createDrainsFeature(core, { ...opts, topics: [space], ...(processes > 0 ? { processes } : {}) });
  const node = { feature, app: createApp(core, [feature]), space, workers: Math.max(processes, 1) };
  await feature.start?.();
  return node;
}

/** Drops the drains of the nodes' spaces (and with them their DLQ lines), so later workers do not carry them, and stops the nodes. */
export async function stopDrainsNodes(core: Core | undefined, nodes: (DrainsNode | undefined)[]): Promise<void> {
  for (const n of nodes) if (core && n) await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${n.space}`]).catch(() => undefined);
  for (const n of nodes) await n?.feature.stop?.();
}

/** Registers `appKey`, adds a drain to `url` through the node's API, and waits until every worker runs it. */
export async function createDrain(core: Core, node: DrainsNode, appKey: string, url: string): Promise<string> {
  await core.apps.register(appKey);
  const res = await request(node.app).post(`/apps/${appKey}/log-drains`).set(authHeader).send({ url });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(`drain ${id} live in every worker`, async () => (await node.feature.drainState(id))?.workers === node.workers, 10_000);
  return id;
}
