/**
 * Streams say why they end (issue 13): a text, an SSE and an NDJSON tail, open against real
 * Kafka, each receive one closing line in their own format before the end, on shutdown (the
 * feature stopping, what SIGTERM does) and at the maximum stream duration.
 */
import http from 'node:http';
import request from 'supertest';
import { uniqueName, authHeader } from '../helpers/env';
import { TailNode } from '../helpers/tail-node';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

/** Reads a whole stream; `seen` resolves once `marker` has arrived, `done` at the end of the response. */
function open(url: string, headers: Record<string, string>, marker: string) {
  let text = '';
  let markerSeen: () => void = () => undefined;
  const seen = new Promise<void>((r) => (markerSeen = r));
  const done = new Promise<string>((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (text.includes(marker)) markerSeen();
      });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { seen, done };
}

const AKA_LINE = /^\S+Z \S+ \S+\[\S+\]: /;

describe.each([
  ['shutdown', { maxStreamSeconds: 3600 }, 'Stream closed: the server is restarting; reconnect to continue.', true],
  ['max_duration', { maxStreamSeconds: 2 }, 'Stream closed: the maximum stream duration was reached; create a new log session to continue.', false],
] as const)('a tail ended for %s', (reason, opts, message, reconnect) => {
  let node: TailNode;
  const space = uniqueName('cl');
  const app = uniqueName('c');
  const key = `${app}-${space}`;

  beforeAll(async () => {
    node = await TailNode.start({ space, feature: { reading: 'every-topic', ...opts } });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('sends each format its closing line before the end', async () => {
    const log = `history ${reason}`;
    const [line] = await node.produce(app, [log]);
    await waitFor('the line in the hub', async () => (await node.core.apps.find(key)) && node.feature.hub.rings.peek(key)?.size === 1);
    const created = await request(node.server).post(`/apps/${key}/log-sessions`).set(authHeader).send({ lines: 1, tail: true });
    expect(created.status).toBe(201);
    const url = created.body.logplex_url;

    const text = open(url, {}, log);
    const sse = open(url, { Accept: 'text/event-stream' }, log);
    const ndjson = open(url, { Accept: 'application/x-ndjson' }, log);
    await Promise.all([text.seen, sse.seen, ndjson.seen]);
    if (reason === 'shutdown') {
      await node.stopFeature();
    }
    const [textOut, sseOut, ndjsonOut] = await Promise.all([text.done, sse.done, ndjson.done]);

    const textLines = textOut.split('\n').filter(Boolean);
    expect(textLines).toEqual([line, expect.stringMatching(AKA_LINE)]);
    expect(textLines[1]).toMatch(new RegExp(`^\\S+Z ${key} logway\\[gateway\\]: `));
    expect(textLines[1].endsWith(`: ${message}`)).toBe(true);

    // The last SSE block is the named close event; the Heroku CLI (and any EventSource) ignores it as a log line.
    const blocks = sseOut.split('\n\n').filter(Boolean);
    const last = blocks[blocks.length - 1].split('\n');
    expect(blocks.filter((b) => b.includes(`data: ${line}`))).toHaveLength(1);
    expect(last[0]).toBe('event: logway-close');
    expect(JSON.parse(last[last.length - 1].replace(/^data: /, ''))).toEqual({ reason, reconnect, message });
    const retry = last.find((l) => l.startsWith('retry: '));
    if (reason === 'shutdown') {
      const ms = Number(retry?.slice(7));
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThanOrEqual(5000);
    } else {
      expect(retry).toBeUndefined();
    }

    const records = ndjsonOut
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ message: log, app_key: key });
    expect(records[1]).toMatchObject({ type: 'end', reason, reconnect, message });
  });
});
