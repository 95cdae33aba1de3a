/**
 * The hub's per-line shortcuts (issue 10) give what the plain code gives: the parser's per-container
 * cache of app key, process type and dyno, and the ring's reuse of the last dropped line's
 * partition key.
 */
import { containerToProcess, dynoFromPod, parseKafkaMessage } from '../../lib/log/parse';
import type { LogLine } from '../../lib/log/line';
import { AppRing } from '../../lib/tail/ring';
import { appKeyLine } from '../helpers/log-line';

function appLog(topic: string, container: string, pod: string, offset: number) {
  const value = JSON.stringify({
    log: `line ${offset}\n`,
    stream: 'stdout',
    time: '2024-01-01T00:00:00.000Z',
    kubernetes: { container_name: container, pod_name: pod },
  });
  return parseKafkaMessage({ topic, partition: 0, offset: String(offset), value });
}

describe('parseKafkaMessage with its per-container cache', () => {
  it('gives every line the app key, process type and dyno of its own topic, container and pod', () => {
    const cases: [string, string, string][] = [];
    for (const topic of ['spacea', 'spaceb'])
      for (const container of ['api', 'api--worker', 'web2'])
        for (const pod of [`${container.split('--')[0]}-web-1562910588-cg82f`, `${container.split('--')[0]}-worker-123-abc`, 'other-pod-1', 'akkeris/event'])
          cases.push([topic, container, pod]);
    // Twice over, interleaved: the second round is served from the cache.
    let offset = 0;
    for (let round = 0; round < 2; round++)
      for (const [topic, container, pod] of cases) {
        const r = appLog(topic, container, pod, offset++);
        if (!r.ok) throw new Error(r.reason);
        const { app, processType } = containerToProcess(container);
        const platform = pod.startsWith('akkeris/');
        expect(r.line).toMatchObject({
          app,
          space: topic,
          appKey: `${app}-${topic}`,
          processType: platform ? '' : processType,
          dyno: platform ? '' : dynoFromPod(app, processType, pod),
          source: platform ? pod : 'app',
          message: `line ${offset - 1}`,
        });
      }
  });

  it('refuses a container without an app on every line, not only the first', () => {
    for (let i = 0; i < 3; i++) expect(appLog('spacec', '--worker', 'x-1', i)).toMatchObject({ ok: false, kind: 'missing_fields' });
  });

  it('stays right past its caps (more pods than it keeps)', () => {
    for (let i = 0; i < 600; i++) {
      const r = appLog('spaced', 'api', `api-web-${i}-abc`, i);
      expect(r.ok && r.line.dyno).toBe(`web.${i}-abc`);
    }
  });
});

/** A line of app `a-s` at a position. */
const line = (partition: number, offset: number, topic = 's', message = 'm'): LogLine =>
  appKeyLine('a-s', { time: new Date(0), message, position: { topic, partition, offset: String(offset) } });

describe('AppRing dropping lines of several partitions', () => {
  it('moves each partition’s coverage past its own dropped lines', () => {
    const ring = new AppRing('a-s', 2, new Map());
    // Partitions interleaved, then a run of one, then another topic with the same partition number.
    const pushed = [line(0, 5), line(1, 7), line(0, 6), line(1, 8), line(1, 9), line(1, 10), line(0, 3, 'alamoweblogs'), line(0, 4, 'alamoweblogs')];
    pushed.forEach((l) => ring.push(l));
    expect(ring.coverFrom).toEqual(
      new Map([
        ['s:0', 7],
        ['s:1', 11],
      ]),
    );
    expect(ring.toArray()).toEqual(pushed.slice(-2));
  });
});

describe('TailSession SSE ids while lines repeat one partition', () => {
  it('match encodeCursor of the positions after every line (runs on one partition, switches, new partitions)', async () => {
    const { EventEmitter } = await import('node:events');
    const { Registry } = await import('prom-client');
    const { TailSession } = await import('../../lib/tail/session');
    const { createTailMetrics } = await import('../../lib/tail/metrics');
    const { encodeCursor, positionKey } = await import('../../lib/tail/positions');
    const chunks: string[] = [];
    const res = Object.assign(new EventEmitter(), { write: (c: string) => chunks.push(c) > 0 });
    const start = new Map([
      ['s:0', 10],
      ['s:1', 20],
      ['alamoweblogs:0', 5],
    ]);
    const s = new TailSession(res as never, {
      format: 'sse',
      key: 'a-s',
      filter: () => true,
      maxBufferedLines: 1e6,
      metrics: createTailMetrics(new Registry()),
      onClose: () => undefined,
    });
    s.begin(start);
    s.release([]);
    const pos = new Map(start);
    const want: string[] = [];
    const topics = ['s', 's', 's', 'alamoweblogs', 'alamobuildlogs'];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    let topic = 's';
    let partition = 0;
    // First a run broken by a new partition and resumed, then random runs and switches.
    const fixed: [string, number][] = [
      ['s', 0],
      ['s', 0],
      ['s', 9],
      ['s', 0],
      ['s', 0],
      ['s', 1],
      ['s', 0],
    ];
    for (let i = 0; i < 2000; i++) {
      if (i < fixed.length) [topic, partition] = fixed[i];
      // Mostly runs on one partition, sometimes a switch (new partitions appear along the way).
      else if (rnd(10) === 0) {
        topic = topics[rnd(topics.length)];
        partition = rnd(4);
      }
      const offset = (pos.get(`${topic}:${partition}`) ?? 0) + rnd(3);
      const l = line(partition, offset, topic, `m${i}`);
      s.accept(l);
      pos.set(positionKey(l.position), offset + 1);
      want.push(encodeCursor(pos));
    }
    await new Promise((r) => setImmediate(r));
    expect([...chunks.join('').matchAll(/^id: (.*)$/gm)].map((m) => m[1])).toEqual(want);
  });
});
