import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { createLogger } from '../../lib/logger';
import { createProm } from '../../lib/prom';
import { boundedReason, DependencyTracker, isReported, REASON_MAX } from '../../lib/dependencies';
import { kafkaLogCreator } from '../../lib/kafka';
import { Unavailable } from '../../lib/errors';

/** A pino logger writing JSON lines into an array. */
function captureLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

async function gauge(prom: ReturnType<typeof createProm>, dependency: string): Promise<number | undefined> {
  return (await prom.dependencyUp.get()).values.find((v) => v.labels.dependency === dependency)?.value;
}

async function changes(prom: ReturnType<typeof createProm>, dependency: string, state: string): Promise<number> {
  return (await prom.dependencyChanges.get()).values.find((v) => v.labels.dependency === dependency && v.labels.state === state)?.value ?? 0;
}

describe('DependencyTracker', () => {
  it('logs one warn when a dependency goes away and one info with the duration when it is back, however many failures between', async () => {
    const { logger, lines } = captureLogger();
    const prom = createProm({ defaultMetrics: false });
    let now = Date.parse('2026-01-01T20:11:03.000Z');
    const t = new DependencyTracker(logger, prom, () => now);
    expect(await gauge(prom, 'influxdb')).toBe(1);

    for (let i = 0; i < 50; i++) t.down('influxdb', 'ECONNREFUSED 127.0.0.1:1');
    expect(t.isUp('influxdb')).toBe(false);
    expect(await gauge(prom, 'influxdb')).toBe(0);
    expect(await gauge(prom, 'kafka')).toBe(1);
    now += 42_000;
    for (let i = 0; i < 10; i++) t.up('influxdb');
    await flush();

    const about = lines.filter((l) => l.dependency === 'influxdb');
    expect(about.map((l) => l.level)).toEqual([40, 30]);
    expect(about[0].msg).toBe('influxdb unreachable; affected: metrics API');
    expect(about[0].since).toBe('2026-01-01T20:11:03.000Z');
    expect(about[1]).toMatchObject({ msg: 'influxdb is back after 42 s', down_ms: 42_000, down_since: '2026-01-01T20:11:03.000Z' });
    expect(await gauge(prom, 'influxdb')).toBe(1);
    expect(await changes(prom, 'influxdb', 'down')).toBe(1);
    expect(await changes(prom, 'influxdb', 'up')).toBe(1);
  });

  it('an answer to a request sent before the outage began does not end it; a failure of one sent before it ended does not start another', async () => {
    const { logger, lines } = captureLogger();
    const prom = createProm({ defaultMetrics: false });
    let now = Date.parse('2026-01-01T20:11:03.000Z');
    const t = new DependencyTracker(logger, prom, () => now);
    const fetchSent = now - 200;
    t.down('kafka', 'Closed connection');
    now += 1;
    // A fetch sent 200 ms ago answered just as the broker went away (seen on a loaded machine).
    t.up('kafka', fetchSent);
    expect(t.isUp('kafka')).toBe(false);
    now += 4_000;
    const pingSent = now;
    now += 5;
    t.up('kafka', pingSent);
    expect(t.isUp('kafka')).toBe(true);
    // A produce sent during the outage fails after the ping answered: the outage that ended.
    const late = new Unavailable('kafka', 'Connection error: connect ECONNREFUSED');
    t.failed(late, pingSent - 1_000);
    expect(t.isUp('kafka')).toBe(true);
    expect(isReported(late)).toBe(true);
    // One sent after it came back fails: a new outage. Without a send time: a new outage too.
    t.down('kafka', 'ECONNREFUSED', undefined, now);
    expect(t.isUp('kafka')).toBe(false);
    now += 2_000;
    t.up('kafka');
    t.down('kafka', 'ECONNREFUSED');
    await flush();
    expect(lines.filter((l) => l.dependency === 'kafka').map((l) => l.msg)).toEqual([
      expect.stringMatching(/^kafka unreachable; /),
      'kafka is back after 4 s',
      expect.stringMatching(/^kafka unreachable; /),
      'kafka is back after 2 s',
      expect.stringMatching(/^kafka unreachable; /),
    ]);
    expect(await changes(prom, 'kafka', 'down')).toBe(3);
    expect(await changes(prom, 'kafka', 'up')).toBe(2);
  });

  it('says nothing for successes while up', async () => {
    const { logger, lines } = captureLogger();
    const t = new DependencyTracker(logger);
    for (let i = 0; i < 5; i++) t.up('kafka');
    await flush();
    expect(lines).toEqual([]);
  });

  it('takes Unavailable errors by their dependency name and marks them reported (lib/http then logs them at debug)', () => {
    const { logger } = captureLogger();
    const t = new DependencyTracker(logger);
    const e = new Unavailable('PostgreSQL', 'connect ECONNREFUSED 127.0.0.1:5432');
    const other = new Unavailable('upstream', 'x');
    t.failed(e);
    t.failed(other);
    expect(t.isUp('postgresql')).toBe(false);
    expect(isReported(e)).toBe(true);
    expect(isReported(other)).toBe(false);
    // Later failures of a known outage are reported too (and logged by nobody).
    const again = new Unavailable('PostgreSQL', 'x');
    t.failed(again);
    expect(isReported(again)).toBe(true);
  });

  it('a consumer is crashed from its crash until it makes progress; the loop is logged once, not per crash', async () => {
    const { logger, lines } = captureLogger();
    const prom = createProm({ defaultMetrics: false });
    const t = new DependencyTracker(logger, prom);
    t.consumerProgressed('drains');
    expect(t.crashedConsumers()).toEqual([]);
    for (let i = 0; i < 5; i++) t.consumerCrashed('drains', 'snappy codec missing', true);
    expect(t.crashedConsumers()).toEqual(['drains']);
    expect(t.loopingConsumers()).toEqual(['drains']);
    expect(t.consumerStates().drains).toMatchObject({ state: 'crashed', crashes: 5, error: 'snappy codec missing', looping: true });
    expect((await prom.consumerUp.get()).values.find((v) => v.labels.consumer === 'drains')?.value).toBe(0);
    t.consumerProgressed('drains');
    expect(t.crashedConsumers()).toEqual([]);
    await flush();
    expect(lines.filter((l) => l.consumer === 'drains').map((l) => [l.level, l.msg])).toEqual([
      [40, 'Kafka consumer crashed; restarting'],
      [30, 'Kafka consumer running again'],
    ]);
  });

  it('one crash that is restarted from is not a loop: restarting until progress, crash-looping only from the third crash in a row', () => {
    const { logger } = captureLogger();
    let now = 0;
    const t = new DependencyTracker(logger, undefined, () => now);
    t.consumerProgressed('tail-hub');
    // A broker dies: the consumer crashes on its connection, kafkajs restarts it, it fetches again.
    t.consumerCrashed('tail-hub', 'Connection error: read ECONNRESET', true);
    expect(t.crashedConsumers()).toEqual(['tail-hub']);
    expect(t.loopingConsumers()).toEqual([]);
    expect(t.consumerStates()['tail-hub']).toMatchObject({ state: 'crashed', crashes: 1, looping: false });
    now += 10_000;
    t.consumerCrashed('tail-hub', 'There is no leader for this topic-partition', true);
    expect(t.loopingConsumers()).toEqual([]);
    now += 1_000;
    t.consumerProgressed('tail-hub');
    expect(t.crashedConsumers()).toEqual([]);
    // Progress resets the count: two more crashes are not three in a row.
    t.consumerCrashed('tail-hub', 'x', true);
    t.consumerCrashed('tail-hub', 'x', true);
    expect(t.loopingConsumers()).toEqual([]);
    t.consumerCrashed('tail-hub', 'x', true);
    expect(t.loopingConsumers()).toEqual(['tail-hub']);
    expect(t.consumerStates()['tail-hub']).toMatchObject({ state: 'crashed', crashes: 3, looping: true });
    t.consumerProgressed('tail-hub');
    expect(t.loopingConsumers()).toEqual([]);
    expect(t.consumerStates()['tail-hub'].looping).toBe(false);
  });

  it('a crashed consumer that makes no progress for the grace time is crash-looping however few its crashes (kafkajs gave up, nobody restarted it)', () => {
    const { logger } = captureLogger();
    let now = 1_000_000;
    const t = new DependencyTracker(logger, undefined, () => now, { crashes: 3, graceMs: 30_000 });
    t.consumerCrashed('builds', 'Snappy compression not implemented', false);
    expect(t.consumerStates().builds).toMatchObject({ state: 'stopped', crashes: 1, looping: false });
    now += 29_999;
    expect(t.loopingConsumers()).toEqual([]);
    now += 1;
    expect(t.loopingConsumers()).toEqual(['builds']);
    expect(t.consumerStates().builds.looping).toBe(true);
    // The grace counts from the first crash of the run, not from the latest one.
    t.consumerCrashed('builds', 'again', true);
    expect(t.consumerStates().builds).toMatchObject({ crashes: 2, since: new Date(1_000_000), looping: true });
    t.consumerProgressed('builds');
    expect(t.loopingConsumers()).toEqual([]);
    t.consumerCrashed('builds', 'later', true);
    expect(t.loopingConsumers()).toEqual([]);
  });

  it('a consumer that gave up is not running until reported otherwise; stopping one on purpose forgets it', () => {
    const { logger } = captureLogger();
    const t = new DependencyTracker(logger);
    t.consumerCrashed('builds', 'boom', false);
    expect(t.consumerStates().builds.state).toBe('stopped');
    expect(t.crashedConsumers()).toEqual(['builds']);
    t.consumerStopped('builds');
    expect(t.crashedConsumers()).toEqual([]);
    expect(t.consumerStates()).toEqual({});
  });
});

describe('DependencyTracker quarantined partitions', () => {
  it('lists a quarantined partition until a batch of it goes through after its retry, keeping its first since; says when it flows again', async () => {
    const { logger, lines } = captureLogger();
    let now = Date.parse('2026-01-01T10:00:00.000Z');
    const t = new DependencyTracker(logger, undefined, () => now);
    t.partitionQuarantined('drains', 'logs', 3, 'cannot read this', now + 60_000);
    expect(t.quarantines()).toEqual([
      { consumer: 'drains', topic: 'logs', partition: 3, since: now, reason: 'cannot read this', retryAt: now + 60_000, retrying: false },
    ]);
    now += 60_000;
    t.partitionRetrying('drains', 'logs', 3);
    expect(t.quarantines()).toMatchObject([{ partition: 3, retrying: true }]);
    // It fails into quarantine again: the first since is kept, the retry time and reason are the new ones.
    now += 2_000;
    t.partitionQuarantined('drains', 'logs', 3, 'still cannot', now + 60_000);
    expect(t.quarantines()).toEqual([
      {
        consumer: 'drains',
        topic: 'logs',
        partition: 3,
        since: Date.parse('2026-01-01T10:00:00.000Z'),
        reason: 'still cannot',
        retryAt: now + 60_000,
        retrying: false,
      },
    ]);
    now += 60_000;
    t.partitionRetrying('drains', 'logs', 3);
    now += 500;
    t.quarantineLifted('drains', 'logs', 3);
    expect(t.quarantines()).toEqual([]);
    // Lifting what is not held says nothing.
    t.quarantineLifted('drains', 'logs', 3);
    await flush();
    expect(lines.map((l) => [l.level, l.msg, l.topic, l.partition, l.quarantined_since])).toEqual([
      [30, 'quarantined Kafka partition flows again', 'logs', 3, '2026-01-01T10:00:00.000Z'],
    ]);
  });

  it('a deleted topic drops its quarantines, a stopped consumer all of its own, and no other consumer’s', () => {
    const { logger } = captureLogger();
    const t = new DependencyTracker(logger);
    t.partitionQuarantined('drains', 'a', 0, 'x', Date.now() + 1000);
    t.partitionQuarantined('drains', 'b', 1, 'x', Date.now() + 1000);
    t.partitionQuarantined('tail-hub', 'a', 0, 'x', Date.now() + 1000);
    t.quarantinesDropped('drains', ['a']);
    expect(t.quarantines().map((q) => `${q.consumer} ${q.topic}:${q.partition}`)).toEqual(['drains b:1', 'tail-hub a:0']);
    t.quarantinesDropped('drains');
    expect(t.quarantines().map((q) => `${q.consumer} ${q.topic}:${q.partition}`)).toEqual(['tail-hub a:0']);
  });

  it('a retrying partition that sees no batch for a whole quarantine period is no longer read here (rebalanced away): dropped', () => {
    const { logger } = captureLogger();
    let now = 0;
    const t = new DependencyTracker(logger, undefined, () => now);
    t.partitionQuarantined('drains', 'logs', 0, 'x', 30_000);
    now = 30_000;
    t.partitionRetrying('drains', 'logs', 0);
    now = 59_999;
    expect(t.quarantines()).toHaveLength(1);
    now = 60_000;
    expect(t.quarantines()).toEqual([]);
  });

  it('mirrors what other processes report, each report replacing the last of the same reporter; [] forgets it', () => {
    const { logger } = captureLogger();
    const t = new DependencyTracker(logger, undefined, () => 5);
    const q = (consumer: string, partition: number, since: number) => ({ consumer, topic: 'logs', partition, since, reason: 'r', retryAt: 9, retrying: false });
    t.partitionQuarantined('tail-hub', 'logs', 7, 'r', 9);
    t.mirrorQuarantines('drain worker process 1', [q('drains/1', 0, 3), q('drains/1', 1, 4)]);
    t.mirrorQuarantines('drain worker process 2', [q('drains/2', 2, 1)]);
    t.mirrorQuarantines('drain worker process 1', [q('drains/1', 1, 4)]);
    // Oldest first.
    expect(t.quarantines().map((x) => `${x.consumer}:${x.partition}`)).toEqual(['drains/2:2', 'drains/1:1', 'tail-hub:7']);
    t.mirrorQuarantines('drain worker process 2', []);
    expect(t.quarantines().map((x) => `${x.consumer}:${x.partition}`)).toEqual(['drains/1:1', 'tail-hub:7']);
  });

  it('keeps a reason to one bounded line: the first line only (never a stack), no control characters or URL credentials', () => {
    const { logger } = captureLogger();
    const t = new DependencyTracker(logger);
    const err = new Error('write to https://user:s3cret@sink.example.com/logs failed\tbadly');
    t.partitionQuarantined('drains', 'logs', 0, err.stack ?? '', Date.now() + 1000);
    expect(t.quarantines()[0].reason).toBe('Error: write to https://***@sink.example.com/logs failed badly');
    const long = boundedReason('x'.repeat(5000));
    expect(long).toHaveLength(REASON_MAX);
    expect(long.endsWith('…')).toBe(true);
    // A cut never splits a character in two.
    const emoji = boundedReason(`${'x'.repeat(REASON_MAX - 2)}😀😀`);
    expect(emoji).toBe(`${'x'.repeat(REASON_MAX - 2)}…`);
    expect(boundedReason('')).toBe('failed');
    expect(boundedReason('a\r\n    at Object.<anonymous> (/app/x.js:1:1)')).toBe('a');
  });
});

describe('kafkaLogCreator', () => {
  const entry = (message: string, extra: Record<string, unknown> = {}) => ({ message, timestamp: 'x', logger: 'kafkajs', ...extra });

  it('one line per distinct message per window, the next carrying the suppressed count; its ERROR is our warn', async () => {
    const { logger, lines } = captureLogger();
    let now = 0;
    const log = kafkaLogCreator(logger, undefined, 30_000, () => now)();
    for (let i = 0; i < 100; i++) log({ namespace: 'Runner', level: logLevel.ERROR, label: 'ERROR', log: entry('Offset out of range') });
    log({ namespace: 'Runner', level: logLevel.WARN, label: 'WARN', log: entry('The group is rebalancing') });
    now = 30_000;
    log({ namespace: 'Runner', level: logLevel.ERROR, label: 'ERROR', log: entry('Offset out of range') });
    await flush();
    expect(lines.map((l) => [l.level, l.msg, l.suppressed])).toEqual([
      [40, 'Offset out of range', undefined],
      [30, 'The group is rebalancing', undefined],
      [40, 'Offset out of range', 99],
    ]);
  });

  it("kafkajs's consumer crash and restart lines and a group rebalance answer go to debug (the tracker's 'Kafka consumer crashed' says the crash)", async () => {
    const { logger, lines } = captureLogger('info');
    const log = kafkaLogCreator(logger)();
    log({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry('Crash: KafkaJSNoBrokerAvailableError: No broker available', {
        groupId: 'logway-drains',
        stack: 'KafkaJSNoBrokerAvailableError: No broker available\n    at x',
      }),
    });
    log({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: entry('Restarting the consumer in 200ms', { retryTime: 200 }) });
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry('Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' }),
    });
    // Other Consumer errors stay warnings.
    log({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: entry('Offset out of range') });
    await flush();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[40, 'Offset out of range']]);
  });

  it('connection failures become one warn from the tracker (the raw lines go to debug)', async () => {
    const { logger, lines } = captureLogger('info');
    const t = new DependencyTracker(logger);
    const log = kafkaLogCreator(logger, t)();
    for (let i = 0; i < 170; i++) {
      log({
        namespace: 'Connection',
        level: logLevel.ERROR,
        label: 'ERROR',
        log: entry('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092' }),
      });
      log({
        namespace: 'BrokerPool',
        level: logLevel.ERROR,
        label: 'ERROR',
        log: entry('Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      });
    }
    await flush();
    expect(t.isUp('kafka')).toBe(false);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'kafka unreachable; affected: log-session history and live tails, drain delivery, build-log storage, POST /log-events'],
    ]);
  });
});
