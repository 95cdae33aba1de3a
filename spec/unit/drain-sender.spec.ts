import { Registry } from 'prom-client';
import pino from 'pino';
import { DeliveryError, DrainSender, OutBatch, Outcome, renderFrame, SendItem, Transport } from '../../drains/sender';
import { drainMetrics } from '../../drains/metrics';
import type { Parker, ParkInfo } from '../../drains/parker';
import type { LogLine } from '../../lib/log/line';
import { numberedLine } from '../helpers/log-line';
import { until } from '../helpers/wait';
import { parseDrainUrl } from '../../drains/url';
import { frameOctetCounted, toRfc5424, truncateUtf8 } from '../../lib/log/format';

const log = pino({ level: 'silent' });

/** A transport whose answers the test scripts: each send waits for the test to resolve or reject it. */
class ScriptedTransport implements Transport {
  maxInFlight = 1;
  maxBatchBytes = 100 * 1024;
  maxBatchItems = 1000;
  calls: { batch: OutBatch; messages: string[]; resolve(): void; reject(e: Error): void }[] = [];
  send(batch: OutBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.calls.push({ batch, messages: batch.items.map((i) => i.line.message), resolve, reject });
    });
  }
  close(): void {}
}

class FakeParker {
  parked: { messages: string[]; info: ParkInfo }[] = [];
  park(_d: unknown, items: SendItem[], info: ParkInfo): void {
    this.parked.push({ messages: items.map((i) => i.line.message), info });
    items.forEach((i) => i.owner.settle('parked', i));
  }
}

const line = (i: number, message = `line ${i}`): LogLine => numberedLine(i, { message });
const tick = () => new Promise((r) => setImmediate(r));

function setup(opts: { attempts?: number; queueMax?: number } = {}) {
  const transport = new ScriptedTransport();
  const parker = new FakeParker();
  const outcomes: Record<string, Outcome> = {};
  const sender = new DrainSender(
    { id: 'd1', token: 'api-space' },
    parseDrainUrl('https://collector.example.com/'),
    transport,
    parker as unknown as Parker,
    drainMetrics(new Registry()),
    { retry: { baseMs: 1, capMs: 4, attempts: opts.attempts ?? 3 }, queueMax: opts.queueMax ?? 100 },
    log,
  );
  const offer = (i: number) => sender.offer(line(i), { settle: (o) => (outcomes[`line ${i}`] = o) });
  return { transport, parker, outcomes, sender, offer };
}

describe('DrainSender', () => {
  it('settles a line offered after its drain was removed (so the offset commits), but not after a shutdown close', async () => {
    const removed = setup();
    removed.sender.remove();
    removed.offer(7);
    expect(removed.outcomes['line 7']).toBe('dropped');
    expect(removed.transport.calls).toHaveLength(0);

    const closed = setup();
    expect(closed.sender.close()).toEqual([]);
    closed.offer(8);
    await tick();
    expect(closed.outcomes['line 8']).toBeUndefined();
    expect(closed.transport.calls).toHaveLength(0);
  });

  it('batches what was offered together and settles it on ack', async () => {
    const { transport, outcomes, offer, sender } = setup();
    for (let i = 0; i < 5; i++) offer(i);
    await tick();
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0].messages).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(sender.depth).toBe(5);
    transport.calls[0].resolve();
    await until(() => Object.keys(outcomes).length === 5);
    expect(Object.values(outcomes).every((o) => o === 'delivered')).toBe(true);
    expect(sender.depth).toBe(0);
  });

  it('retries the same batch (same frame id) in order, then continues', async () => {
    const { transport, outcomes, offer } = setup();
    offer(0);
    await tick();
    offer(1);
    transport.calls[0].reject(new DeliveryError('HTTP 500'));
    await until(() => transport.calls.length === 2);
    expect(transport.calls[1].batch.frameId).toBe(transport.calls[0].batch.frameId);
    expect(transport.calls[1].messages).toEqual(['line 0']);
    expect(transport.calls[1].batch.attempts).toBe(2);
    transport.calls[1].resolve();
    await until(() => transport.calls.length === 3);
    expect(transport.calls[2].messages).toEqual(['line 1']);
    expect(transport.calls[2].batch.frameId).not.toBe(transport.calls[0].batch.frameId);
    transport.calls[2].resolve();
    await until(() => outcomes['line 1'] === 'delivered');
    expect(outcomes['line 0']).toBe('delivered');
  });

  it('parks a batch once its retry budget is spent', async () => {
    const { transport, parker, outcomes, offer } = setup({ attempts: 3 });
    offer(0);
    for (let n = 1; n <= 3; n++) {
      await until(() => transport.calls.length === n);
      transport.calls[n - 1].reject(new DeliveryError(`boom ${n}`));
    }
    await until(() => outcomes['line 0'] === 'parked');
    expect(transport.calls).toHaveLength(3);
    expect(parker.parked).toEqual([{ messages: ['line 0'], info: expect.objectContaining({ attempts: 3, lastError: 'boom 3' }) }]);
  });

  it('parks a permanent failure at once, without retrying', async () => {
    const { transport, parker, outcomes, offer } = setup();
    offer(0);
    await until(() => transport.calls.length === 1);
    transport.calls[0].reject(new DeliveryError('HTTP 400 Bad Request', true));
    await until(() => outcomes['line 0'] === 'parked');
    expect(parker.parked[0].info).toMatchObject({ attempts: 1, lastError: 'HTTP 400 Bad Request' });
    offer(1);
    await until(() => transport.calls.length === 2);
    expect(transport.calls[1].messages).toEqual(['line 1']);
  });

  it('parks overflow instead of blocking when the drain holds queueMax lines', async () => {
    const { transport, parker, outcomes, offer, sender } = setup({ queueMax: 3 });
    for (let i = 0; i < 5; i++) offer(i);
    expect(sender.depth).toBe(3);
    await until(() => parker.parked.length === 2);
    expect(parker.parked.map((p) => p.messages[0])).toEqual(['line 3', 'line 4']);
    expect(parker.parked[0].info.attempts).toBe(0);
    expect(parker.parked[0].info.lastError).toMatch(/queue full/);
    await until(() => transport.calls.length === 1);
    transport.calls[0].resolve();
    await until(() => Object.keys(outcomes).length === 5);
  });

  it('drops what a deleted drain held, and leaves it unsettled on a plain close', async () => {
    const a = setup();
    a.offer(0);
    a.sender.remove();
    expect(a.outcomes['line 0']).toBe('dropped');
    const b = setup();
    b.offer(0);
    expect(b.sender.close()).toHaveLength(1);
    expect(b.outcomes['line 0']).toBeUndefined();
  });
});

describe('renderFrame', () => {
  it('frames RFC5424 with octet counting, newline on request, and caps UDP at 1024 bytes', () => {
    const l = line(1, 'hello');
    const octet = renderFrame(l, 'api-space', { transport: 'tcp', framing: 'octet' });
    const msg = '<14>1 2026-01-01T00:00:00.001Z api-space app web.1 - - hello';
    expect(octet).toEqual({ frame: `${Buffer.byteLength(msg)} ${msg}`, bytes: Buffer.byteLength(msg) + 3 });
    expect(renderFrame(l, 'api-space', { transport: 'tls', framing: 'newline' }).frame).toBe(`${msg}\n`);
    expect(renderFrame(l, 'api-space', { transport: 'udp', framing: 'octet' }).frame).toBe(msg);
    const big = renderFrame(line(2, 'é'.repeat(2000)), 'api-space', { transport: 'udp', framing: 'octet' });
    expect(big.bytes).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(big.frame)).toBe(big.bytes);
    const huge = renderFrame(line(3, 'x'.repeat(200_000)), 'api-space', { transport: 'https', framing: 'octet' });
    expect(huge.frame.startsWith('100000 ')).toBe(true);
    expect(huge.bytes).toBe(100_007);
    expect(Buffer.byteLength(huge.frame)).toBe(100_007);
  });

  it('builds the same octet-counted bytes as lib/log/format frameOctetCounted (multi-byte text too)', () => {
    for (const text of ['hello', 'héllo wörld ✓ 日本語', 'x'.repeat(150_000), 'é'.repeat(60_000)]) {
      const l = line(4, text);
      const mine = renderFrame(l, 'api-space', { transport: 'tls', framing: 'octet' });
      const theirs = frameOctetCounted(truncateUtf8(toRfc5424(l, { hostname: 'api-space' }), 100_000));
      expect(Buffer.from(mine.frame, 'utf8').equals(theirs)).toBe(true);
      expect(mine.bytes).toBe(theirs.length);
    }
  });
});
