/** POST /log-events against the real stack: validation, the produced Kafka message, and the event in a log session. */
import express from 'express';
import request from 'supertest';
import type { Core } from '../../lib/core';
import type { KafkaRecord } from '../../lib/kafka';
import { authHeader, uniqueName } from '../helpers/env';
import { eventFor } from '../helpers/log-event';
import { EventsNode, startEventsNode } from '../helpers/events-node';
import { waitFor } from '../helpers/wait';

// The project-level testTimeout in jest.config.js is not honoured by jest 29; Kafka group joins take seconds.
jest.setTimeout(60000);

let core: Core;
let app: express.Express;
let node: EventsNode;
const space = uniqueName('evsp');
const appName = uniqueName('evapp');
const appKey = `${appName}-${space}`;

const event = (log: string, extra: Record<string, unknown> = {}) => eventFor(appName, space, log, extra);

beforeAll(async () => {
  node = await startEventsNode(space);
  ({ core, app } = node);
});

afterAll(() => node?.stop());

describe('POST /log-events', () => {
  it('400 for a body that is not JSON', async () => {
    const res = await request(app).post('/log-events').set(authHeader).set('Content-Type', 'application/json').send('{"log": nope').expect(400);
    expect(res.body).toEqual({ id: 'bad_request', message: 'The request body was not valid JSON.' });
  });

  it('400 for JSON that is not an object', async () => {
    const res = await request(app).post('/log-events').set(authHeader).send([1, 2]).expect(400);
    expect(res.body.message).toBe('The request body must be a JSON object (a LogSpec).');
  });

  it('422 with a message naming the missing field', async () => {
    const noApp = await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x', { kubernetes: { pod_name: 'akkeris/event' } }))
      .expect(422);
    expect(noApp.body).toEqual({ id: 'unprocessable_entity', message: 'The specified event has no "kubernetes.container_name" (the app).' });
    const noTopic = await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x', { topic: undefined }))
      .expect(422);
    expect(noTopic.body.message).toBe('The specified event has no "topic" (the space).');
    const noLog = await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x', { log: undefined }))
      .expect(422);
    expect(noLog.body.message).toBe('The specified event has no "log" text.');
  });

  it('422 for a space whose topic does not exist, and no topic is created for it', async () => {
    const nowhere = uniqueName('nosp');
    const res = await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x', { topic: nowhere }))
      .expect(422);
    expect(res.body).toEqual({ id: 'unprocessable_entity', message: `The specified space ${nowhere} does not exist.` });
    expect(await core.kafka.listTopics()).not.toContain(nowhere);
    expect(await core.apps.find(`${appName}-${nowhere}`)).toBeFalsy();
  });

  it('422 for the platform topics alamobuildlogs and alamoweblogs (existing topics, not spaces); no app is registered', async () => {
    for (const topic of ['alamobuildlogs', 'alamoweblogs']) {
      // They exist on the platform; the refusal must not depend on the topic being absent.
      await core.kafka.createTopic(topic);
      const res = await request(app).post('/log-events').set(authHeader).send(event('fake', { topic })).expect(422);
      expect(res.body).toEqual({ id: 'unprocessable_entity', message: `The specified "topic" "${topic}" is a platform topic, not a space.` });
      expect(await core.apps.find(`${appName}-${topic}`)).toBeFalsy();
    }
  });

  it('422 naming the field for an over-long free-text field or log text', async () => {
    const long = event('x', { tag: 't'.repeat(257) });
    const res = await request(app).post('/log-events').set(authHeader).send(long).expect(422);
    expect(res.body.message).toBe('The specified "tag" is longer than allowed (256 characters is the maximum).');
    const host = await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x', { kubernetes: { ...event('').kubernetes, host: 'h'.repeat(1000) } }))
      .expect(422);
    expect(host.body.message).toBe('The specified "kubernetes.host" is longer than allowed (256 characters is the maximum).');
    const big = await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x'.repeat(100_001)))
      .expect(422);
    expect(big.body.message).toBe('The specified "log" text is larger than 100000 bytes.');
  });

  it('a space created after the topic list was cached is accepted (a miss re-lists the topics)', async () => {
    const later = uniqueName('latersp');
    await request(app)
      .post('/log-events')
      .set(authHeader)
      .send(event('x', { topic: uniqueName('nosp') }))
      .expect(422);
    await core.kafka.createTopic(later);
    await waitFor('the new space to be accepted', async () => {
      const r = await request(app)
        .post('/log-events')
        .set(authHeader)
        .send(event('created later', { topic: later, kubernetes: { ...event('').kubernetes, namespace_name: later } }));
      return r.status === 201;
    });
  });

  it('401 without credentials', async () => {
    await request(app).post('/log-events').send(event('x')).expect(401);
  });

  it('201 once Kafka has the event; the message is Akkeris’s LogSpec on the space topic', async () => {
    const text = `Release v3 created by ${uniqueName('user')}`;
    const body = event(text);
    const res = await request(app).post('/log-events').set(authHeader).send(body).expect(201);
    expect(res.body).toEqual(body);

    // The broker acknowledged before the 201: a fresh consumer reading from the beginning finds it.
    const seen: KafkaRecord[] = [];
    const consumer = await core.kafka.consume({ groupId: uniqueName('events-check'), topics: [space], fromBeginning: true }, async (batch) => {
      seen.push(...batch.records);
      batch.resolveOffset(batch.records[batch.records.length - 1].offset);
    });
    try {
      const record = await waitFor('the event on Kafka', async () => seen.find((r) => r.value?.toString('utf8').includes(text)));
      expect(record.topic).toBe(space);
      expect(record.key?.toString()).toBe(appKey);
      expect(JSON.parse(record.value!.toString('utf8'))).toEqual(body);
    } finally {
      await consumer.stop();
    }
  });

  it('the event shows in the app’s log session as akkeris/event', async () => {
    const text = `Dyno restarted ${uniqueName('r')}`;
    await request(app).post('/log-events').set(authHeader).send(event(text)).expect(201);
    const line = await waitFor('the event in a log session', async () => {
      const session = await request(app).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 50, tail: false });
      if (session.status !== 201) return undefined;
      const url = new URL(session.body.logplex_url);
      const stream = await request(app).get(url.pathname);
      return String(stream.text)
        .split('\n')
        .find((l) => l.endsWith(text));
    });
    expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${appKey} akkeris/event: ${text}$`));
  });
});
