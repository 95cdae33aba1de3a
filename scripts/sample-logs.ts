/** A sample producer for newcomers: writes Akkeris-format log lines for an app (default `demo-default`) to
 * Kafka, as fluentd and the router would, so there is something to tail right after `npm run up`. */
import os from 'node:os';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { createKafka } from '../lib/kafka';
import { splitAppKey } from '../lib/apps';
import { ROUTER_TOPIC } from '../lib/log/parse';
import { prepareStack, scriptArgs } from '../bench/lib/setup';

const { positionals } = scriptArgs({
  usage: 'npx tsx scripts/sample-logs.ts [appKey] [intervalMs]    (built: node dist/scripts/sample-logs.js ...)',
  about:
    "Writes two app log lines (fluentd JSON, as Akkeris containers do) to the topic of the app's space every intervalMs, " +
    `and every other round a router line to ${ROUTER_TOPIC}, until Ctrl-C. appKey is app-space (default demo-default); intervalMs defaults to 1000.`,
  env: { KAFKA_BROKERS: 'the brokers to write to (127.0.0.1:9092)' },
  prints: 'one line saying where it writes, then only errors (a failed write is retried on the next round).',
  needs: 'Kafka; creates the space topic and the router topic if missing.',
});
const appKey = positionals[0] ?? 'demo-default';
const intervalMs = Number(positionals[1] ?? 1000);
const parts = splitAppKey(appKey);
if (!parts || !(intervalMs > 0)) {
  process.stderr.write(`sample producer: want an app key app-space and an interval in ms > 0, got "${appKey}" and "${positionals[1] ?? ''}" (--help)\n`);
  process.exit(2);
}
const { app, space } = parts;

const dynos = [
  { type: 'web', pod: `${app}-web-5d8f7c9b6-x2k4p`, container: app },
  { type: 'web', pod: `${app}-web-5d8f7c9b6-q9w7z`, container: app },
  { type: 'worker', pod: `${app}-worker-7b6c5d4f3-m1n2b`, container: `${app}--worker` },
];
const paths = ['/', '/health', '/api/orders', '/api/users/42', '/static/app.js'];

function appMessage(i: number) {
  const d = dynos[i % dynos.length];
  const stderr = i % 17 === 0;
  const log =
    d.type === 'web'
      ? `${stderr ? 'WARN slow request' : 'INFO handled request'} id=${i} path=${paths[i % paths.length]} ms=${(i * 7) % 250}\n`
      : `${stderr ? 'ERROR job failed, will retry' : 'INFO processed job'} job=${i} queue=default\n`;
  return {
    log,
    stream: stderr ? 'stderr' : 'stdout',
    time: new Date().toISOString(),
    docker: { container_id: `c0ffee${i % 3}` },
    kubernetes: {
      namespace_name: space,
      pod_id: `pod-${i % 3}`,
      pod_name: d.pod,
      container_name: d.container,
      labels: { name: app },
      host: os.hostname(),
    },
    topic: space,
    tag: 'sample',
  };
}

function routerLine(i: number): string {
  const p = paths[i % paths.length];
  return `at=info method=GET path=${p} hostname=${appKey}.example.local dyno=web.1 connect=1ms service=${(i * 3) % 90}ms status=200 bytes=${512 + i} protocol=https fwd=10.0.0.${i % 250}`;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('warn');
  await prepareStack({ kafka: { brokers: config.kafkaBrokers, topics: [{ topic: space }, { topic: ROUTER_TOPIC }] } });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'logway-sample', logger });
  let i = 0;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await kafka.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  process.stdout.write(`sample producer: writing lines for ${appKey} to topic "${space}" (and router lines to ${ROUTER_TOPIC}) every ${intervalMs} ms\n`);
  while (!stopping) {
    try {
      await kafka.produce(space, [{ value: JSON.stringify(appMessage(i)) }, { value: JSON.stringify(appMessage(i + 1)) }]);
      if (i % 4 === 0) await kafka.produce(ROUTER_TOPIC, [{ value: routerLine(i) }]);
      i += 2;
    } catch (e) {
      process.stderr.write(`sample producer: ${(e as Error).message} (retrying)\n`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

main().catch((e) => {
  process.stderr.write(`sample producer failed: ${(e as Error).message}\n`);
  process.exit(1);
});
