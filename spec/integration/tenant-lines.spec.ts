/** A hostile POST /log-events `log` read back through real Kafka in text and SSE sessions: no forged line, no raw control. */
import express from 'express';
import request from 'supertest';
import { authHeader, uniqueName } from '../helpers/env';
import { eventFor } from '../helpers/log-event';
import { EventsNode, startEventsNode } from '../helpers/events-node';
import { waitFor } from '../helpers/wait';

jest.setTimeout(60000);

let app: express.Express;
let node: EventsNode;
const space = uniqueName('tlsp');
const appName = uniqueName('tlapp');
const appKey = `${appName}-${space}`;
const marker = uniqueName('forge');
const hostile = `${marker}\n2026-12-08T00:00:00.000Z victim-space akkeris/router: at=info FORGED\u001b]52;c;cm0gLXJmIH4=\u0007\u009b2J\u0000 end`;

const event = (log: string) => eventFor(appName, space, log);

async function readSession(accept: string): Promise<string> {
  const session = await request(app).post(`/apps/${appKey}/log-sessions`).set(authHeader).send({ lines: 50, tail: false }).expect(201);
  const res = await request(app).get(new URL(session.body.logplex_url).pathname).set('Accept', accept);
  return String(res.text);
}

beforeAll(async () => {
  node = await startEventsNode(space);
  ({ app } = node);
  await request(app).post('/log-events').set(authHeader).send(event(hostile)).expect(201);
});

afterAll(() => node?.stop());

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

it('text/plain: every line of the event carries the event’s own prefix and no raw control', async () => {
  const body = await waitFor('the event in a text session', async () => {
    const text = await readSession('text/plain');
    return text.includes(marker) ? text : undefined;
  });
  const ours = new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${appKey} akkeris/event: `);
  const lines = body.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(2);
  for (const l of lines) {
    expect(l).toMatch(ours);
    expect(l).not.toMatch(CONTROL);
  }
  expect(lines[1]).toContain('FORGED\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b2J\\x00 end');
});

it('SSE: every data line carries the event’s own prefix and no raw control', async () => {
  const body = await waitFor('the event in an SSE session', async () => {
    const text = await readSession('text/event-stream');
    return text.includes(marker) ? text : undefined;
  });
  const data = body.split('\n').filter((l) => l.startsWith('data:'));
  expect(data).toHaveLength(2);
  for (const l of data) {
    expect(l).toMatch(new RegExp(`^data: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${appKey} akkeris/event: `));
    expect(l).not.toMatch(CONTROL);
  }
});
