/**
 * The build-log topic deleted while logway runs (Kafka's own TopicCommand): the build consumer
 * does not crash-loop on it; it re-creates the topic, resubscribes, and stores what is written
 * there afterwards. On the code before, kafkajs restarted the consumer every 200 ms on "This server
 * does not host this topic-partition" for as long as nobody else re-created the topic.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import express from 'express';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { createBuildsFeature, BuildsFeature } from '../../lib/builds/feature';
import { authHeader, createTestCore, uniqueName } from '../helpers/env';
import { waitFor } from '../helpers/wait';
import { deleteTopicWithTopicCommand } from '../helpers/topic-command';

jest.setTimeout(120_000);

const topic = uniqueName('buildsdel');
const appKey = `${uniqueName('app')}-${uniqueName('sp')}`;
let core: Core;
let feature: BuildsFeature;
let app: express.Express;
let crashSpy: jest.SpyInstance;

/**
 * Each write from a fresh client: kafkajs's auto-creating producer names every topic it wrote to
 * in its metadata requests, so a long-lived one would itself re-create the deleted topic.
 */
async function write(build: string, message: string): Promise<void> {
  const writer = createTestCore();
  try {
    await writer.kafka.produce(topic, [{ key: build, value: JSON.stringify({ build, job: '1', message, metadata: appKey }) }], { autoCreateTopic: false });
  } finally {
    await closeCore(writer);
  }
}

const lines = async (build: string): Promise<string[] | undefined> => {
  const res = await request(app).get(`/apps/${appKey}/builds/${build}/result`).set(authHeader);
  return res.status === 200 ? (res.body.lines as string[]) : undefined;
};

beforeAll(async () => {
  core = createTestCore();
  crashSpy = jest.spyOn(core.dependencies, 'consumerCrashed');
  await core.kafka.createTopic(topic, 1);
  feature = createBuildsFeature(core, { topic, groupId: uniqueName('builds-del'), restartDelayMs: 200 });
  await feature.start!();
  app = createApp(core, [feature]);
});

afterAll(async () => {
  await feature?.stop!();
  if (core) await closeCore(core);
});

it('re-creates a deleted build-log topic and goes on storing, without a crash loop', async () => {
  const first = crypto.randomUUID();
  await write(first, 'Step 1/2 : FROM node:20');
  await waitFor('the first build line stored', async () => (await lines(first))?.length === 1);

  deleteTopicWithTopicCommand(topic);
  await waitFor('the consumer noticed the deletion', async () => crashSpy.mock.calls.length > 0);
  // Only the build consumer re-creates it (our writes never create topics).
  await waitFor('the topic re-created', async () => (await core.kafka.listTopics()).includes(topic));

  const second = crypto.randomUUID();
  await waitFor('a write to the re-created topic', async () => write(second, 'Step 1/2 : FROM node:20').then(() => true));
  await waitFor('the line written after the deletion stored', async () => (await lines(second))?.length === 1);

  // Running again: another line is stored and nothing crashes meanwhile.
  const settled = crashSpy.mock.calls.length;
  const third = crypto.randomUUID();
  await write(third, 'Step 2/2 : RUN npm ci');
  await waitFor('a further line stored', async () => (await lines(third))?.length === 1);
  expect(crashSpy.mock.calls.length).toBe(settled);
});
