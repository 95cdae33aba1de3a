/**
 * Nothing a sink or a line says can wedge the DLQ (issue 9 items 5 and 6), against real Kafka and
 * PostgreSQL: a sink answering a NUL byte in its HTTP status reason, a line PostgreSQL refuses even
 * alone, and the per-drain DLQ cap (MAX_DLQ_ROWS_PER_DRAIN) dropping the oldest lines, counted.
 */
import net from 'node:net';
import express from 'express';
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createDrainsFeature, DrainsFeature } from '../../drains/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { produceLines, waitFor } from '../helpers/drain-fixtures';
import { appKeyLine } from '../helpers/log-line';

jest.setTimeout(120_000);

const CAP = 5;

/**
 * An HTTP sink written on a raw socket, so it can answer what node's http server never would
 * (a NUL in the status reason). Reads each request whole (Content-Length), answers `statusLine`.
 */
class RawHttpSink {
  requests = 0;
  port = 0;
  private sockets = new Set<net.Socket>();
  private server = net.createServer((socket) => {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.subarray(end + 4 + length);
        this.requests++;
        socket.write(Buffer.from(`${this.statusLine}\r\nContent-Length: 0\r\n\r\n`, 'latin1'));
      }
    });
  });

  constructor(private statusLine: string) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let core: Core;
let feature: DrainsFeature;
let app: express.Express;
const nulSink = new RawHttpSink('HTTP/1.1 500 Bad\u0000Thing');
const refusingSink = new RawHttpSink('HTTP/1.1 400 Bad Request');
const space = uniqueName('dlqx');

beforeAll(async () => {
  await nulSink.listen();
  await refusingSink.listen();
  core = createTestCore({ MAX_DLQ_ROWS_PER_DRAIN: String(CAP) });
  await core.kafka.createTopic(space, 1);
  feature = createDrainsFeature(core, {
    groupId: uniqueName('drains-dlqx-'),
    topics: [space],
    fromBeginning: true,
    topicRefreshMs: 500,
    commitIntervalMs: 200,
    dlqPollMs: 300,
    retry: { baseMs: 10, capMs: 50, attempts: 2 },
  });
  app = createApp(core, [feature]);
  await feature.start?.();
});

afterAll(async () => {
  if (core) await core.db.query('DELETE FROM log_drains WHERE token LIKE $1', [`%-${space}`]).catch(() => undefined);
  await feature?.stop?.();
  await nulSink.close();
  await refusingSink.close();
  if (core) await closeCore(core);
});

async function createDrain(appKey: string, url: string): Promise<string> {
  await core.apps.register(appKey);
  const res = await request(app).post(`/apps/${appKey}/log-drains`).set(authHeader).send({ url });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(() => feature.worker?.senderOf(id) !== undefined, `drain ${id} live in the worker`, 10_000);
  return id;
}

const dlqOf = async (drain: string) => (await request(app).get(`/drains/dlq?drain=${drain}&limit=1000`).set(authHeader)).body;

it('a sink answering a NUL byte in its status reason: the line is parked with a readable last_error, and the next line of another drain gets through', async () => {
  const nulApp = uniqueName('nul');
  const nulDrain = await createDrain(`${nulApp}-${space}`, `http://127.0.0.1:${nulSink.port}/logs`);
  const [line] = await produceLines(core, { app: nulApp, space, tag: 'nul', count: 1, dynos: 1 });
  await waitFor(() => nulSink.requests > 0, 'the NUL sink asked');

  // Another app's drain, whose line also goes to the DLQ (a 400): it waits behind the NUL line if that one wedges the DLQ writer.
  const nextApp = uniqueName('next');
  const nextDrain = await createDrain(`${nextApp}-${space}`, `http://127.0.0.1:${refusingSink.port}/logs`);
  const [next] = await produceLines(core, { app: nextApp, space, tag: 'next', count: 1, dynos: 1 });
  await waitFor(async () => (await feature.dlq.count({ drain: nextDrain })) === 1, 'the next line parked', 60_000);
  expect((await dlqOf(nextDrain)).items[0]).toMatchObject({ last_error: 'HTTP 400 Bad Request', line: { message: next.message } });

  await waitFor(async () => (await feature.dlq.count({ drain: nulDrain })) === 1, 'the NUL-answered line parked', 60_000);
  const parked = (await dlqOf(nulDrain)).items[0];
  expect(parked).toMatchObject({ drain_id: nulDrain, state: 'parked', line: { message: line.message } });
  expect(parked.last_error).toBe('HTTP 500 Bad\uFFFDThing');
});

it('quarantines a line PostgreSQL refuses even alone, and stores the rest of its batch', async () => {
  const appKey = `${uniqueName('q')}-${space}`;
  const drain = await createDrain(appKey, `http://127.0.0.1:${refusingSink.port}/q`);
  // One DLQ row per Kafka position: each line its own offset.
  const line = (message: string) =>
    appKeyLine(appKey, {
      time: new Date(),
      message,
      position: { topic: space, partition: 0, offset: String(['first', 'refused', 'third'].indexOf(message) + 1) },
    });
  const entry = (drainId: string, message: string) => ({
    drainId,
    appKey,
    line: line(message),
    attempts: 1,
    lastError: 'HTTP 400',
    firstAttemptAt: null,
    lastAttemptAt: null,
  });
  // Not a uuid: PostgreSQL refuses the row (SQLSTATE 22P02), and before, the whole batch with it.
  const result = await feature.dlq.park([entry(drain, 'first'), entry('not-a-uuid', 'refused'), entry(drain, 'third')]);
  expect(result.parked).toBe(2);
  expect(result.quarantined.map((q) => q.row.line.message)).toEqual(['refused']);
  expect(result.quarantined[0].err.code).toBe('22P02');
  expect((await dlqOf(drain)).items.map((i: { line: { message: string } }) => i.line.message)).toEqual(['first', 'third']);
});

it(`keeps at most MAX_DLQ_ROWS_PER_DRAIN (${CAP}) lines per drain: the oldest go first, every drop counted in GET /drains/dlq and /metrics`, async () => {
  const name = uniqueName('cap');
  const appKey = `${name}-${space}`;
  const drain = await createDrain(appKey, `http://127.0.0.1:${refusingSink.port}/cap`);
  const other = await createDrain(appKey, `http://127.0.0.1:${refusingSink.port}/cap-other`);
  const parkedTotal = async (d: string) => {
    const counter = await core.prom.registry.getSingleMetric('logway_drain_parked_total')!.get();
    return counter.values.find((v) => v.labels.drain === d)?.value ?? 0;
  };
  // One line at a time, each parked before the next: the DLQ's age order is the production order.
  const produced: string[] = [];
  for (let i = 0; i < 12; i++) {
    const [p] = await produceLines(core, { app: name, space, tag: `cap${i}`, count: 1, dynos: 1 });
    produced.push(p.message);
    await waitFor(async () => (await parkedTotal(drain)) === i + 1 && (await parkedTotal(other)) === i + 1, `line ${i} parked`);
  }

  const body = await dlqOf(drain);
  expect(body.count).toBe(CAP);
  // The newest CAP lines are kept (one dyno: one partition, parked in order).
  expect(body.items.map((i: { line: { message: string } }) => i.line.message)).toEqual(produced.slice(-CAP));
  expect(body.dropped).toBe(produced.length - CAP);
  expect(body.dropped_by_drain).toEqual([{ drain_id: drain, app: appKey, dropped: produced.length - CAP, last_dropped_at: expect.any(String) }]);
  // Per drain: the other drain of the app has its own cap and count; all of the app's drains by app.
  expect((await dlqOf(other)).dropped).toBe(produced.length - CAP);
  const byApp = (await request(app).get(`/drains/dlq?app=${appKey}&limit=0`).set(authHeader)).body;
  expect(byApp).toMatchObject({ count: 2 * CAP, items: [], dropped: 2 * (produced.length - CAP) });
  expect(byApp.dropped_by_drain).toHaveLength(2);

  const metrics = await request(app).get('/metrics').set(authHeader);
  expect(metrics.text).toContain(`logway_drain_dlq_dropped_total{drain="${drain}",app="${appKey}"} ${produced.length - CAP}`);
});
