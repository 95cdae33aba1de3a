/**
 * A drain worker process (DRAIN_WORKERS > 0): forked by ./supervisor, it builds its own Core (Kafka,
 * PostgreSQL) from the node's configuration and runs one DrainWorker in the node's drains consumer
 * group, with its own LISTEN/NOTIFY for drain changes and DLQ retries. It answers the supervisor's
 * questions (metrics on a scrape, one drain's state) and reports its Kafka consumer's health and
 * the partitions it holds quarantined (shown by the node's /health/ready).
 *
 * It stops cleanly (settled lines committed, DrainWorker.stop) when the supervisor says `stop`,
 * on SIGTERM, and when the IPC channel closes (the supervisor died); SIGINT is left to the
 * supervisor, which a terminal's Ctrl-C reaches too.
 */
import { closeCore, createCore, Core } from '../lib/core';
import { createLogger } from '../lib/logger';
import { DlqStore } from './dlq';
import { drainMetrics } from './metrics';
import { ConsumerReport, FromWorker, fromTopicSpecs, ToWorker } from './process-messages';
import { DrainStore } from './store';
import { DrainWorker } from './worker';

/** How often the consumer states are compared with what was last reported. */
const REPORT_MS = 250;

function send(msg: FromWorker): void {
  if (process.connected) process.send!(msg);
}

function consumerReport(core: Core): Record<string, ConsumerReport> {
  return Object.fromEntries(
    Object.entries(core.dependencies.consumerStates()).map(([name, s]) => [name, { state: s.state, crashes: s.crashes, error: s.error }]),
  );
}

async function run(start: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { index, options } = start;
  const config = { ...start.config, tls: undefined };
  const core = createCore(config, { logger: createLogger(config.logLevel).child({ drain_process: index }) });
  const metrics = drainMetrics(core.prom.registry);
  const worker = new DrainWorker(core, new DrainStore(core.db), new DlqStore(core.db, { maxRowsPerDrain: config.maxDlqRowsPerDrain }), metrics, {
    ...options,
    topics: fromTopicSpecs(options.topics),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(reporter);
      await worker.stop().catch((e) => core.logger.error({ err: (e as Error).message }, 'drain worker stop failed'));
      await closeCore(core).catch(() => undefined);
      process.exit(0);
    })();
  };
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') stop();
    else if (msg.type === 'metrics') {
      core.prom.registry.getMetricsAsJSON().then(
        (m) => send({ type: 'metrics', id: msg.id, metrics: m }),
        () => send({ type: 'metrics', id: msg.id, metrics: [] }),
      );
    } else if (msg.type === 'drain') {
      const sender = worker.senderOf(msg.drain);
      send({ type: 'drain', id: msg.id, state: sender ? { depth: sender.depth, lastError: sender.lastError } : null });
    }
  });
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);
  process.on('SIGINT', () => undefined);

  let reported = '';
  const reporter = setInterval(() => {
    const consumers = consumerReport(core);
    const quarantines = core.dependencies.quarantines();
    const text = JSON.stringify([consumers, quarantines]);
    if (text !== reported) send({ type: 'consumers', consumers, quarantines });
    reported = text;
  }, REPORT_MS);

  await worker.start();
  send({ type: 'ready' });
}

process.once('message', (msg: ToWorker) => {
  if (msg.type !== 'start') return;
  run(msg).catch((e) => {
    process.stderr.write(`${JSON.stringify({ level: 50, msg: 'drain worker process failed to start', err: String((e as Error)?.stack ?? e) })}\n`);
    process.exit(1);
  });
});
