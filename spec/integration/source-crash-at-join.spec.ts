/**
 * A consumer that crashes for good while it is still joining its group (inside consume(), before
 * its owner could listen for crashes) is restarted by its log source all the same. A fresh
 * 3-broker cluster did this to the build consumer ("This server does not host this
 * topic-partition" at join): on the code before, nobody heard the crash, the consumer stayed dead,
 * and the node answered 503 (crash-looping) until it was restarted.
 *
 * The broker refuses the join deterministically here: a session timeout (4 s: kafkajs itself wants more than its 3 s heartbeat) below the broker's
 * group.min.session.timeout.ms (6 s) is INVALID_SESSION_TIMEOUT, which kafkajs does not retry.
 */
import { closeCore, Core } from '../../lib/core';
import { createLogger } from '../../lib/logger';
import { LogSource } from '../../lib/kafka/source/log-source';
import { createTestCore, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';

jest.setTimeout(60_000);

let core: Core;
let source: LogSource | undefined;

beforeAll(() => {
  core = createTestCore();
});

afterAll(async () => {
  await source?.stop();
  if (core) await closeCore(core);
});

it('restarts a consumer whose crash came before consume() returned, and readiness says restarting, then crash-looping', async () => {
  const topic = uniqueName('joincrash');
  await core.kafka.createTopic(topic, 1);
  const name = uniqueName('joincrash-consumer');
  source = new LogSource(
    core.kafka,
    { onBatch: () => undefined },
    { name, groupId: uniqueName('joincrash'), wanted: (t) => t === topic, start: 'earliest', commit: 'resolved', pollMs: 60_000, sessionTimeoutMs: 4000 },
    createLogger(process.env.SPEC_LOG ?? 'silent'),
  );
  await source.start();

  // The first crash: the tracker hears it as a crash being restarted, not one for good.
  await waitFor('the first crash', async () => (core.dependencies.consumerStates()[name]?.crashes ?? 0) >= 1);
  const first = core.dependencies.consumerStates()[name];
  expect(first).toMatchObject({ state: 'crashed', error: expect.stringMatching(/session timeout/i) });

  // The source heard it too and started a new consumer after its back-off (1 s), which crashes again.
  await waitFor('the source to restart it', async () => (core.dependencies.consumerStates()[name]?.crashes ?? 0) >= 2, 20_000);
  await waitFor('crash-looping after 3 crashes without progress', async () => core.dependencies.loopingConsumers().includes(name), 30_000);
});
