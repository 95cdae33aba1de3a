/**
 * A Kafka consumer that crash-loops (docs/design.md "Operating logway itself"): /health/ready is 200
 * DEGRADED naming it as restarting right after its crash, 503 naming it once the crash is a loop
 * (lib/dependencies CRASH_LOOP: here the grace time without progress), and 200 once it handles a
 * batch again. The failure is forced the way a codec kafkajs cannot read fails
 * (KafkaJSNotImplemented: no retries, an immediate crash), on the real Kafka; the consumer is the
 * real lib/kafka one.
 */
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import type { RunningConsumer } from '../../lib/kafka';
import { createTestCore, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

describe('readiness and a crash-looping consumer', () => {
  let core: Core;
  let consumer: RunningConsumer | undefined;

  beforeAll(() => {
    core = createTestCore();
  });
  afterAll(async () => {
    await consumer?.stop();
    if (core) await closeCore(core);
  });

  it('is 503 naming the consumer while it crash-loops, 200 once it handles a batch', async () => {
    const topic = uniqueName('poison');
    const name = uniqueName('poisoned');
    await core.kafka.createTopic(topic, 1);
    await core.kafka.produce(topic, [{ value: 'a batch this consumer cannot read' }]);
    const app = createApp(core, []);
    let poisoned = true;
    let handled = 0;
    // kafkajs does not restart a consumer after this error: its owner subscribes again (the hub, the
    // drain worker and the build consumer all do), here once the poison is gone.
    const start = () =>
      core.kafka.consume({ groupId: uniqueName('g'), name, topics: [topic], fromBeginning: true, autoCommit: false }, async (batch) => {
        if (poisoned) throw Object.assign(new Error('Snappy compression not implemented'), { name: 'KafkaJSNotImplemented' });
        handled += batch.records.length;
      });
    consumer = await start();

    // One crash is not a loop: right after it the node is ready, DEGRADED, naming the consumer as
    // restarting; nobody restarts this one (kafkajs gave up), so it is crash-looping once its first
    // crash is CRASH_LOOP.graceMs old (the source would have started it again within seconds).
    // The crash is awaited first: a probe sent before it lands would rightly still say UP.
    await waitFor(
      () => JSON.stringify(core.dependencies.consumerStates()),
      async () => (core.dependencies.consumerStates()[name]?.crashes ?? 0) >= 1,
      80_000,
      200,
    );
    const restarting = await request(app).get('/health/ready');
    expect(restarting.status).toBe(200);
    expect(restarting.body).toMatchObject({ state: 'DEGRADED', message: `Degraded: consumer ${name} restarting after a crash.` });
    expect(restarting.body.dependencies[`consumer:${name}`]).toEqual({
      state: 'DOWN',
      error: expect.stringMatching(/^restarting \(1 crash since \S+Z, no progress since\)$/),
    });

    const down = await waitFor(
      () => JSON.stringify(core.dependencies.consumerStates()),
      async () => {
        const res = await request(app).get('/health/ready');
        return res.status === 503 && (core.dependencies.consumerStates()[name]?.crashes ?? 0) >= 1 && res;
      },
      80_000,
      200,
    );
    expect(down.body.state).toBe('DOWN');
    expect(down.body.message).toBe(`Not ready: consumer ${name} crash-looping.`);
    expect(down.body.dependencies[`consumer:${name}`]).toEqual({
      state: 'DOWN',
      error: expect.stringMatching(/^crash-looping \(\d+ crash(es)? since \S+Z, no progress since\)$/),
    });
    expect(down.body.dependencies.kafka).toEqual({ state: 'UP' });

    poisoned = false;
    // The crashed one is stopped before its successor (same name) starts, as the log source does:
    // stopping it afterwards would forget the successor's state (failed in a fresh-clone run).
    await consumer.stop().catch(() => undefined);
    consumer = await start();
    const up = await waitFor(
      () => JSON.stringify(core.dependencies.consumerStates()),
      async () => {
        const res = await request(app).get('/health/ready');
        // An empty fetch already counts as progress; the batch is what this test is about.
        return res.status === 200 && handled >= 1 && res.body.dependencies[`consumer:${name}`] && res;
      },
      80_000,
      200,
    );
    expect(handled).toBeGreaterThanOrEqual(1);
    expect(up.body.state).toBe('UP');
    expect(up.body.dependencies[`consumer:${name}`]).toEqual({ state: 'UP' });
  });
});
