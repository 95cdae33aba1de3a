/** Build logs against the real stack: Kafka → PostgreSQL → GET /apps/:app/builds/:id/result. */
import crypto from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { Counter } from 'prom-client';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createBuildsFeature, BuildsFeature } from '../../lib/builds/feature';
import { createTailFeature } from '../../lib/tail/feature';
import { BUILD_TOPIC } from '../../lib/log/parse';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';

// The project-level testTimeout in jest.config.js is not honoured by jest 29 ("Unknown option"); consumer-group joins take seconds.
jest.setTimeout(60000);

let core: Core;
let feature: BuildsFeature;
let app: express.Express;
const topic = uniqueName('buildlogs');
const space = uniqueName('sp');
const appName = uniqueName('app');
const appKey = `${appName}-${space}`;
const otherKey = `${uniqueName('other')}-${space}`;

const msg = (build: string, message: string, extra: Record<string, unknown> = {}, metadata = appKey) => ({
  key: build,
  value: JSON.stringify({ build, job: '7', message, metadata, ...extra }),
});

const result = (key: string, id: string) => request(app).get(`/apps/${key}/builds/${id}/result`).set(authHeader);

async function resultWhen(key: string, id: string, pred: (body: { build: { status: string }; lines: string[] }) => boolean) {
  return waitFor(`build ${id} result`, async () => {
    const res = await result(key, id);
    return res.status === 200 && pred(res.body) ? res.body : undefined;
  });
}

const storedTotal = async () => {
  const m = core.prom.registry.getSingleMetric('logway_build_lines_stored_total') as Counter;
  return (await m.get()).values.reduce((s, v) => s + v.value, 0);
};

beforeAll(async () => {
  core = createTestCore();
  // One partition: a sentinel message proves every earlier one was processed.
  await core.kafka.createTopic(topic, 1);
  feature = createBuildsFeature(core, { topic, groupId: uniqueName('builds-test'), pageSize: 7, restartDelayMs: 500 });
  await feature.start!();
  app = createApp(core, [feature]);
});

afterAll(async () => {
  await feature.stop!();
  await closeCore(core);
});

describe('build logs', () => {
  const a = crypto.randomUUID();

  it('a registered build with no lines is queued, with Akkeris’s body and output_stream_url', async () => {
    await feature.store.registerBuild(appKey, a, '7');
    const res = await result(appKey, a).expect(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({
      build: { id: a, status: 'queued', output_stream_url: `${core.config.publicUrl}/apps/${appKey}/builds/${a}/result` },
      lines: [],
    });
  });

  it('stores lines in order, stripped, once each (even when Kafka redelivers), with the right status transitions', async () => {
    await core.kafka.produce(topic, [
      msg(a, 'Sending build context to Docker daemon  7.8MB'),
      msg(a, 'Step 1/4 : FROM node:20'),
      msg(a, ' ---> 7a9afc16a57f'),
      msg(a, 'Step 2/4 : ARG NPM_TOKEN=s3cr3t'),
      msg(a, '+ npm ci'),
      msg(a, 'added 120 packages'),
      msg(a, ''),
      msg(a, 'tar: Removing leading `/` from member names'),
    ]);
    const pending = await resultWhen(appKey, a, (b) => b.lines.length === 2);
    expect(pending.build.status).toBe('pending');
    expect(pending.lines).toEqual(['Step 1/4 : FROM node:20', 'added 120 packages']);
    expect(JSON.stringify(pending)).not.toContain('s3cr3t');

    const lines = Array.from({ length: 20 }, (_, i) => `npm run build: step ${i}`);
    await core.kafka.produce(
      topic,
      lines.map((l) => msg(a, l)),
    );
    await core.kafka.produce(topic, [msg(a, 'Finished: SUCCESS')]);
    const done = await resultWhen(appKey, a, (b) => b.build.status === 'succeeded');
    const expected = ['Step 1/4 : FROM node:20', 'added 120 packages', ...lines, 'Finished: SUCCESS'];
    expect(done.lines).toEqual(expected);

    // Redelivery: with the first consumer stopped, a new consumer group reads the whole topic again
    // (the same Kafka positions). Only it can store the sentinel, and the topic has one partition, so
    // once the sentinel is there every earlier message has been processed a second time.
    await feature.stop!();
    const before = await storedTotal();
    const again = createBuildsFeature(core, { topic, groupId: uniqueName('builds-redeliver') });
    await again.start!();
    try {
      const sentinel = crypto.randomUUID();
      await core.kafka.produce(topic, [msg(sentinel, 'sentinel line')]);
      await resultWhen(appKey, sentinel, (b) => b.lines.length === 1);
      // 28 messages redelivered, 0 rows added for them; 1 for the sentinel.
      expect((await storedTotal()) - before).toBe(1);
    } finally {
      await again.stop!();
      await feature.start!();
    }
    const after = await result(appKey, a).expect(200);
    expect(after.body.lines).toEqual(expected);
    expect(after.body.build.status).toBe('succeeded');
    const rows = await core.db.query<{ n: string }>('SELECT count(*)::text AS n FROM build_lines WHERE build_id = $1', [a]);
    expect(rows[0].n).toBe(String(7 + 20 + 1)); // every message with text, noise included (stripped on read); the empty one is not a line

    // A late line after the end never reopens the build.
    await core.kafka.produce(topic, [msg(a, 'late line')]);
    const late = await resultWhen(appKey, a, (b) => b.lines.includes('late line'));
    expect(late.build.status).toBe('succeeded');
  });

  it('Finished: FAILURE and an explicit status field fail a build; the first final status wins', async () => {
    const b = crypto.randomUUID();
    const c = crypto.randomUUID();
    await core.kafka.produce(topic, [
      msg(b, 'npm ERR! missing script: build'),
      msg(b, 'Finished: FAILURE'),
      msg(b, 'Finished: SUCCESS'),
      msg(c, 'compiling'),
      { key: c, value: JSON.stringify({ build: c, job: '8', metadata: appKey, status: 'failed' }) },
    ]);
    const rb = await resultWhen(appKey, b, (x) => x.build.status !== 'pending' && x.lines.length === 3);
    expect(rb.build.status).toBe('failed');
    expect(rb.lines).toEqual(['npm ERR! missing script: build', 'Finished: FAILURE', 'Finished: SUCCESS']);
    const rc = await resultWhen(appKey, c, (x) => x.build.status === 'failed');
    expect(rc.lines).toEqual(['compiling']);
  });

  it('skips malformed messages without blocking the partition', async () => {
    const d = crypto.randomUUID();
    await core.kafka.produce(topic, [
      { key: 'x', value: 'not json at all' },
      { key: 'x', value: JSON.stringify({ build: 'not-a-uuid', message: 'x', metadata: appKey }) },
      { key: 'x', value: JSON.stringify({ build: d, message: 'no metadata' }) },
      msg(d, 'after the bad ones'),
    ]);
    const rd = await resultWhen(appKey, d, (x) => x.lines.length === 1);
    expect(rd.lines).toEqual(['after the bad ones']);
    const skipped = core.prom.registry.getSingleMetric('logway_build_messages_skipped_total') as Counter<'kind'>;
    const kinds = (await skipped.get()).values.filter((v) => v.value > 0).map((v) => v.labels.kind);
    expect(kinds).toEqual(expect.arrayContaining(['bad_json', 'bad_build_id', 'missing_fields']));
  });
});

describe('build lines PostgreSQL cannot store as they are', () => {
  it('stores a NUL byte as U+FFFD and keeps the partition moving', async () => {
    const e = crypto.randomUUID();
    await core.kafka.produce(topic, [msg(e, 'binary\u0000junk'), msg(e, 'after the NUL')]);
    const re = await resultWhen(appKey, e, (x) => x.lines.length === 2);
    expect(re.lines).toEqual(['binary\uFFFDjunk', 'after the NUL']);
  });

  const skippedOf = async (kind: string) => {
    const skipped = core.prom.registry.getSingleMetric('logway_build_messages_skipped_total') as Counter<'kind'>;
    return (await skipped.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
  };

  it('a NUL in job or in metadata does not stall the partition: those builds and the next one are stored', async () => {
    const inJob = crypto.randomUUID();
    const inMetadata = crypto.randomUUID();
    const next = crypto.randomUUID();
    const nulKey = `${appName}\u0000x-${space}`;
    await core.kafka.produce(topic, [
      { key: inJob, value: JSON.stringify({ build: inJob, job: '7\u0000', message: 'job with a NUL', metadata: appKey }) },
      { key: inMetadata, value: JSON.stringify({ build: inMetadata, job: '8', message: 'metadata with a NUL', metadata: nulKey }) },
      msg(next, 'the next build'),
    ]);
    expect((await resultWhen(appKey, next, (x) => x.lines.length === 1)).lines).toEqual(['the next build']);
    expect((await result(appKey, inJob)).body.lines).toEqual(['job with a NUL']);
    // The app key is stored as PostgreSQL can hold it (U+FFFD), and the build is served under it.
    const stored = await core.db.query<{ job: string }>('SELECT job FROM builds WHERE id = $1', [inJob]);
    expect(stored[0].job).toBe('7\uFFFD');
    expect((await result(encodeURIComponent(`${appName}\uFFFDx-${space}`), inMetadata)).body.lines).toEqual(['metadata with a NUL']);
  });

  it('skips messages of the wrong types (counted) and stores the next build', async () => {
    const before = await skippedOf('missing_fields');
    const badJsonBefore = await skippedOf('bad_json');
    const id = crypto.randomUUID();
    const next = crypto.randomUUID();
    await core.kafka.produce(topic, [
      { key: 'x', value: JSON.stringify({ build: { id }, message: 'build is an object', metadata: appKey }) },
      { key: 'x', value: JSON.stringify({ build: id, message: 'metadata is a list', metadata: [appKey] }) },
      { key: 'x', value: JSON.stringify({ build: id, message: { text: 'x' }, status: 7, metadata: appKey }) },
      { key: 'x', value: JSON.stringify([id, appKey]) },
      { key: 'x', value: 'null' },
      msg(next, 'after the wrong types'),
    ]);
    expect((await resultWhen(appKey, next, (x) => x.lines.length === 1)).lines).toEqual(['after the wrong types']);
    expect((await result(appKey, id)).status).toBe(404);
    expect((await skippedOf('missing_fields')) - before).toBe(3);
    expect((await skippedOf('bad_json')) - badJsonBefore).toBe(2);
  });

  it('quarantines a message PostgreSQL refuses even alone (metadata too big for the app index) and stores the rest of its batch', async () => {
    const before = await skippedOf('quarantined');
    const refused = crypto.randomUUID();
    const next = crypto.randomUUID();
    // Random text does not compress: the apps.app_key unique index refuses it (SQLSTATE 54000), whatever it is sanitised into.
    const huge = `${crypto.randomBytes(6000).toString('hex')}-${space}`;
    await core.kafka.produce(topic, [
      msg(next, 'before the refused one'),
      { key: refused, value: JSON.stringify({ build: refused, job: '9', message: 'refused', metadata: huge }) },
      msg(next, 'after the refused one'),
    ]);
    const rn = await resultWhen(appKey, next, (x) => x.lines.length === 2);
    expect(rn.lines).toEqual(['before the refused one', 'after the refused one']);
    expect((await skippedOf('quarantined')) - before).toBe(1);
  });
});

describe('build result errors', () => {
  it('422 for an invalid uuid', async () => {
    const res = await result(appKey, 'not-a-uuid').expect(422);
    expect(res.body).toEqual({ id: 'unprocessable_entity', message: 'The specified uuid was invalid.' });
  });

  it('404 for an unknown app', async () => {
    const res = await result('nosuchapp-nospace', crypto.randomUUID()).expect(404);
    expect(res.body.message).toBe('The specified application nosuchapp-nospace does not exist.');
  });

  it('404 for an unknown build', async () => {
    const id = crypto.randomUUID();
    const res = await result(appKey, id).expect(404);
    expect(res.body).toEqual({ id: 'not_found', message: `The specified build ${id} was not found.` });
  });

  it('404 for another app’s build', async () => {
    const id = crypto.randomUUID();
    await feature.store.registerBuild(otherKey, id);
    await result(otherKey, id).expect(200);
    const res = await result(appKey, id).expect(404);
    expect(res.body.message).toBe(`The specified build ${id} was not found.`);
  });

  it('401 without credentials', async () => {
    await request(app).get(`/apps/${appKey}/builds/${crypto.randomUUID()}/result`).expect(401);
  });
});

describe('build lines in the app’s log stream', () => {
  it('shows alamobuildlogs lines in the app’s log session as akkeris/build (shared parser + tail hub)', async () => {
    const tail = createTailFeature(core);
    await tail.start();
    try {
      const tailApp = createApp(core, [tail]);
      const id = crypto.randomUUID();
      const text = `Step 1/3 : FROM node:20 ${uniqueName('b')}`;
      await core.apps.register(appKey);
      await core.kafka.produce(BUILD_TOPIC, [msg(id, text)]);
      const line = await waitFor('the build line in a log session', async () => {
        const session = await request(tailApp).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 20, tail: false });
        if (session.status !== 201) return undefined;
        const stream = await request(tailApp).get(new URL(session.body.logplex_url).pathname);
        return String(stream.text)
          .split('\n')
          .find((l) => l.endsWith(text));
      });
      expect(line).toMatch(new RegExp(`^\\S+Z ${appKey} akkeris/build: ${text.replace(/[/]/g, '\\/')}$`));
    } finally {
      await tail.stop();
    }
  });
});
