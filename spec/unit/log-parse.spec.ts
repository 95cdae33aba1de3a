import { dynoFromPod, isLogTopic, kubernetesToHumanReadable, parseBuildMessage, parseKafkaMessage, type KafkaMessageInput } from '../../lib/log/parse';

const NOW = new Date('2020-01-01T00:00:00.000Z');
const KAFKA_TS = String(Date.parse('2019-05-05T05:05:05.555Z'));

function appLog(overrides: Record<string, unknown> = {}, k8s: Record<string, unknown> = {}): string {
  return JSON.stringify({
    log: 'GET /health 200\n',
    stream: 'stdout',
    time: '2016-08-24T17:03:20.080151664Z',
    docker: { container_id: '790e' },
    kubernetes: {
      namespace_name: 'space',
      pod_id: '5391',
      pod_name: 'api-web-1562910588-cg82f',
      container_name: 'api',
      labels: { name: 'api' },
      host: 'ip-10-0-0-1',
      ...k8s,
    },
    topic: 'space',
    tag: 'x',
    ...overrides,
  });
}

function msg(topic: string, value: KafkaMessageInput['value'], timestamp: string | undefined = KAFKA_TS): KafkaMessageInput {
  return { topic, partition: 3, offset: '42', timestamp, value };
}

function okLine(m: KafkaMessageInput) {
  const r = parseKafkaMessage(m, NOW);
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.reason}`);
  return r;
}

describe('parseKafkaMessage: app logs', () => {
  it('parses the Akkeris fluentd shape', () => {
    const { line, siteLine } = okLine(msg('space', Buffer.from(appLog())));
    expect(siteLine).toBeUndefined();
    expect(line).toEqual({
      time: new Date('2016-08-24T17:03:20.080Z'),
      app: 'api',
      space: 'space',
      appKey: 'api-space',
      source: 'app',
      dyno: 'web.1562910588-cg82f',
      processType: 'web',
      severity: 6,
      message: 'GET /health 200',
      position: { topic: 'space', partition: 3, offset: '42' },
    });
  });

  it('takes the process type after -- and strips it from the pod name', () => {
    const { line } = okLine(msg('space', appLog({}, { container_name: 'api--worker', pod_name: 'api-worker-123-abc' })));
    expect([line.app, line.processType, line.dyno, line.appKey]).toEqual(['api', 'worker', 'worker.123-abc', 'api-space']);
  });

  it('understands pods named after the deployment (api--worker-..., api-...)', () => {
    expect(dynoFromPod('api', 'worker', 'api--worker-5d8f9-x2k')).toBe('worker.5d8f9-x2k');
    expect(dynoFromPod('api', 'web', 'api-1562910588-cg82f')).toBe('web.1562910588-cg82f');
    expect(dynoFromPod('api', 'web', 'other-1-2')).toBe('web.other-1-2');
  });

  it('stderr is severity 3 and trailing whitespace is trimmed, leading kept', () => {
    const { line } = okLine(msg('space', appLog({ stream: 'stderr', log: '  at foo()\r\n\t ' })));
    expect(line.severity).toBe(3);
    expect(line.message).toBe('  at foo()');
  });

  it('shows akkeris/ pods as a platform source with no dyno', () => {
    const { line } = okLine(msg('space', appLog({ log: 'Release v3 created' }, { pod_name: 'akkeris/event' })));
    expect([line.source, line.dyno, line.processType, line.appKey]).toEqual(['akkeris/event', '', '', 'api-space']);
  });

  it('renders Kubernetes phase messages human readable', () => {
    const crashed = 'Phase: Running/waiting --  reason=CrashLoopBackOff message=Back-off 5m0s restarting failed container=api pod=api-1-2_space(60fa)\n';
    expect(okLine(msg('space', appLog({ log: crashed }))).line.message).toBe('at=error code=H10 desc="App crashed"');
    expect(kubernetesToHumanReadable('Phase: Creating -- Creating pod blog-1050769379-6ktnc')).toBe('Creating Dyno');
    expect(kubernetesToHumanReadable('Phase: Pending/ --')).toBe('Waiting on Dyno');
    expect(kubernetesToHumanReadable('Phase: Pending/waiting --  reason=ContainerCreating')).toBe('Waiting on Dyno');
    expect(kubernetesToHumanReadable('Phase: Running/running --  startedAt=2017-06-16T16:16:30')).toBe('Checking Dyno Health');
    expect(kubernetesToHumanReadable('Phase: Running/terminated --  reason=Error startedAt=2017-06-16T16:12:39Z exitCode=130')).toBe(
      'Dyno exited (exit code 130)',
    );
    expect(kubernetesToHumanReadable('Phase: Running/terminated --  reason=Completed')).toBe('Dyno exited');
    expect(kubernetesToHumanReadable('Phase: Deleting -- pod blog-472348638-9tzlx in space default')).toBe('Deleting Dyno');
    expect(kubernetesToHumanReadable('Phase: Unknown -- x')).toBe('Phase: Unknown -- x');
    expect(kubernetesToHumanReadable('hello Phase: Creating -- ')).toBe('hello Phase: Creating -- ');
  });

  it('time: the message time, else the Kafka timestamp, else now', () => {
    expect(okLine(msg('space', appLog({ time: '2018-03-24T03:07:20.5+02:00' }))).line.time.toISOString()).toBe('2018-03-24T01:07:20.500Z');
    expect(okLine(msg('space', appLog({ time: 'yesterday 2016' }))).line.time.toISOString()).toBe('2019-05-05T05:05:05.555Z');
    expect(okLine(msg('space', appLog({ time: undefined }))).line.time.toISOString()).toBe('2019-05-05T05:05:05.555Z');
    expect(okLine(msg('space', appLog({ time: 12 }), '-1')).line.time.toISOString()).toBe(NOW.toISOString());
    const noTimestamp = { topic: 'space', partition: 0, offset: '1', value: appLog({ time: '2018-02-30T00:00:00Z' }) };
    expect(okLine(noTimestamp).line.time).toEqual(NOW);
  });

  it('malformed JSON is bad_json', () => {
    const r = parseKafkaMessage(msg('space', '{"log": "x"'), NOW);
    expect(r).toMatchObject({ ok: false, kind: 'bad_json' });
    expect(parseKafkaMessage(msg('space', '[1,2]'), NOW)).toMatchObject({ ok: false, kind: 'bad_json' });
    expect(parseKafkaMessage(msg('space', 'plain text'), NOW)).toMatchObject({ ok: false, kind: 'bad_json' });
  });

  it('missing kubernetes or its names is missing_fields', () => {
    expect(parseKafkaMessage(msg('space', appLog({ kubernetes: undefined })), NOW)).toEqual({
      ok: false,
      kind: 'missing_fields',
      reason: 'no kubernetes object',
    });
    expect(parseKafkaMessage(msg('space', appLog({}, { container_name: '' })), NOW)).toMatchObject({
      ok: false,
      kind: 'missing_fields',
    });
    expect(parseKafkaMessage(msg('space', appLog({}, { pod_name: 7 })), NOW)).toMatchObject({ kind: 'missing_fields' });
    expect(parseKafkaMessage(msg('space', appLog({ log: undefined })), NOW)).toMatchObject({ kind: 'missing_fields' });
    expect(parseKafkaMessage(msg('space', appLog({}, { container_name: '--worker' })), NOW)).toMatchObject({
      kind: 'missing_fields',
    });
  });

  it('empty values are empty', () => {
    expect(parseKafkaMessage(msg('space', null), NOW)).toMatchObject({ ok: false, kind: 'empty' });
    expect(parseKafkaMessage(msg('space', Buffer.alloc(0)), NOW)).toMatchObject({ ok: false, kind: 'empty' });
    expect(parseKafkaMessage(msg('space', ' \n'), NOW)).toMatchObject({ ok: false, kind: 'empty' });
  });

  it('internal topics are never read as logs', () => {
    expect(parseKafkaMessage(msg('__consumer_offsets', appLog()), NOW)).toMatchObject({ ok: false, kind: 'internal_topic' });
    expect(isLogTopic('_schemas')).toBe(false);
    expect(isLogTopic('')).toBe(false);
    expect(isLogTopic('space')).toBe(true);
    expect(isLogTopic('alamoweblogs')).toBe(true);
  });
});

describe('parseKafkaMessage: router logs (alamoweblogs)', () => {
  const raw =
    'hostname=api-space.example.io timestamp=2018-03-24T01:07:20.123Z method=GET path=/health?x=1 ' +
    'status=200 bytes=17 source=10.0.0.1%2C%2010.0.0.2 request_id=abc total=12 service=3ms';

  it('renders as akkeris/router with host= and path= appended', () => {
    const { line, siteLine } = okLine(msg('alamoweblogs', raw));
    expect(siteLine).toBeUndefined();
    expect(line).toEqual({
      time: new Date('2018-03-24T01:07:20.123Z'),
      app: 'api',
      space: 'space',
      appKey: 'api-space',
      source: 'akkeris/router',
      dyno: '',
      processType: '',
      severity: 6,
      message: 'method=GET status=200 bytes=17 fwd="10.0.0.1, 10.0.0.2" request_id=abc total=12 service=3ms host=api-space path=/health?x=1',
      position: { topic: 'alamoweblogs', partition: 3, offset: '42' },
    });
  });

  it('a hostname without - is an app in the default space; quoted values survive', () => {
    const { line } = okLine(msg('alamoweblogs', 'hostname=api.example.io agent="curl 8.0" path=/'));
    expect([line.appKey, line.message]).toEqual(['api-default', 'agent="curl 8.0" host=api-default path=/']);
    expect(line.time.toISOString()).toBe('2019-05-05T05:05:05.555Z');
  });

  it('a request through a site is also shown on the site', () => {
    const r = okLine(msg('alamoweblogs', 'hostname=api-space.example.io path=/health site_domain=www.example.com site_path=/api/health status=200'));
    expect(r.line.message).toBe('status=200 host=api-space path=/health');
    expect(r.siteLine).toMatchObject({
      app: 'www.example.com',
      space: '',
      appKey: 'www.example.com',
      source: 'akkeris/router',
      message: 'status=200 host=www.example.com path=/api/health',
    });
  });

  it('keeps tokens that are not k=v as they are', () => {
    expect(okLine(msg('alamoweblogs', 'hostname=api-space.x GET path=/a')).line.message).toBe('GET host=api-space path=/a');
  });

  it('no hostname is missing_fields', () => {
    expect(parseKafkaMessage(msg('alamoweblogs', 'method=GET path=/'), NOW)).toMatchObject({ ok: false, kind: 'missing_fields' });
  });
});

describe('build logs (alamobuildlogs)', () => {
  const id = '0b1f1f0e-1111-4222-8333-944445555666';

  it('parseKafkaMessage renders akkeris/build lines with no dyno', () => {
    const { line } = okLine(msg('alamobuildlogs', JSON.stringify({ build: id, job: '12', message: 'Step 1/7 : FROM node:20\n', metadata: 'api-space' })));
    expect(line).toEqual({
      time: new Date('2019-05-05T05:05:05.555Z'),
      app: 'api',
      space: 'space',
      appKey: 'api-space',
      source: 'akkeris/build',
      dyno: '',
      processType: '',
      severity: 6,
      message: 'Step 1/7 : FROM node:20',
      position: { topic: 'alamobuildlogs', partition: 3, offset: '42' },
    });
  });

  it('parseBuildMessage returns build id, job, message and the status of Finished: lines', () => {
    expect(parseBuildMessage(JSON.stringify({ build: id, job: '12', message: 'Finished: SUCCESS', metadata: 'api-space' }))).toEqual({
      ok: true,
      build: { buildId: id, job: '12', message: 'Finished: SUCCESS', app: 'api', space: 'space', appKey: 'api-space', status: 'succeeded' },
    });
    expect(parseBuildMessage(JSON.stringify({ build: id, job: 12, message: 'Finished: FAILURE\n', metadata: 'api-space' }))).toMatchObject({
      ok: true,
      build: { job: '12', status: 'failed', message: 'Finished: FAILURE' },
    });
    expect(parseBuildMessage(JSON.stringify({ build: id, job: '1', message: 'Step 2/7 : RUN npm ci', metadata: 'api-space' }))).toMatchObject({
      build: { status: null },
    });
  });

  it('an explicit status field wins; a status-only message still makes a line', () => {
    const value = JSON.stringify({ build: id, job: '3', metadata: 'api-space', status: 'failed' });
    expect(parseBuildMessage(value)).toMatchObject({ ok: true, build: { status: 'failed', message: '' } });
    const { line } = okLine(msg('alamobuildlogs', value));
    expect([line.message, line.severity]).toEqual(['Build failed', 3]);
  });

  it('redacts build argument values', () => {
    const value = JSON.stringify({ build: id, job: '3', metadata: 'api-space', message: 'Step 3/9 : ARG NPM_TOKEN=s3cr3t' });
    expect(parseBuildMessage(value)).toMatchObject({ build: { message: 'Step 3/9 : ARG NPM_TOKEN=...' } });
  });

  it('bad and incomplete build messages', () => {
    expect(parseBuildMessage('{nope')).toMatchObject({ ok: false, kind: 'bad_json' });
    expect(parseBuildMessage(null)).toMatchObject({ ok: false, kind: 'empty' });
    expect(parseBuildMessage(JSON.stringify({ job: '1', message: 'x', metadata: 'api-space' }))).toMatchObject({ kind: 'missing_fields' });
    expect(parseBuildMessage(JSON.stringify({ build: id, job: '1', message: 'x' }))).toMatchObject({ kind: 'missing_fields' });
    expect(parseBuildMessage(JSON.stringify({ build: id, job: '1', metadata: 'api-space' }))).toMatchObject({ kind: 'missing_fields' });
    expect(parseKafkaMessage(msg('alamobuildlogs', '{"build":'), NOW)).toMatchObject({ ok: false, kind: 'bad_json' });
  });
});
