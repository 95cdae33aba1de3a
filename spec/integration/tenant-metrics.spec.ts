/** /metrics behind METRICS_TOKEN: the real app, its real registry. */
import request from 'supertest';
import { createApp } from '../../bin/wiring';
import { closeCore, Core } from '../../lib/core';
import { authHeader, createTestCore } from '../helpers/env';

const TOKEN = 'scrape-token-5b8e2d71c4';
let guarded: Core;
let open: Core;

beforeAll(() => {
  guarded = createTestCore({ METRICS_TOKEN: TOKEN });
  open = createTestCore();
});

afterAll(async () => {
  await closeCore(guarded);
  await closeCore(open);
});

describe('with METRICS_TOKEN set', () => {
  it('answers the scrape that presents it as a Bearer token, in text and JSON', async () => {
    const app = createApp(guarded, []);
    const text = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/^# HELP /m);
    const json = await request(app).get('/metrics').set('Authorization', `bearer ${TOKEN}`).set('Accept', 'application/json').expect(200);
    expect(Array.isArray(json.body)).toBe(true);
  });

  it.each([
    ['no Authorization', undefined],
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['the token without the Bearer scheme', TOKEN],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['an API key', authHeader.Authorization],
  ])('401 with %s, naming no metric', async (_what, authorization) => {
    const req = request(createApp(guarded, [])).get('/metrics');
    const res = await (authorization === undefined ? req : req.set('Authorization', authorization)).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="logway metrics"');
    expect(res.body).toEqual({ id: 'unauthorized', message: 'Unauthorized: /metrics requires Authorization: Bearer <METRICS_TOKEN>.' });
    expect(res.text).not.toMatch(/# HELP/);
  });

  it('health probes stay open for the kubelet', async () => {
    await request(createApp(guarded, [])).get('/healthz').expect(200);
  });
});

it('without METRICS_TOKEN (development) /metrics stays open', async () => {
  await request(createApp(open, [])).get('/metrics').expect(200);
});
