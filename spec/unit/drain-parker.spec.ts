/** The DLQ writer (drains/parker) with a stand-in DlqStore: refused lines are quarantined alone, drops are counted. */
import { Registry } from 'prom-client';
import { createLogger } from '../../lib/logger';
import { logLine } from '../helpers/log-line';
import { until } from '../helpers/wait';
import type { DlqStore, ParkEntry, ParkResult } from '../../drains/dlq';
import { drainMetrics } from '../../drains/metrics';
import { Parker } from '../../drains/parker';
import type { Outcome, SendItem } from '../../drains/sender';

const drain = { id: '11111111-1111-4111-8111-111111111111', token: 'api-space' };

function item(message: string, offset: string, settled: Map<string, Outcome>, dlqId?: string): SendItem {
  const line = logLine({ time: new Date(0), message, position: { topic: 'space', partition: 0, offset } });
  return { line, frame: message, bytes: message.length, dlqId, owner: { settle: (outcome) => settled.set(message, outcome) } };
}

const info = { attempts: 1, lastError: 'HTTP 500', firstAttemptAt: null, lastAttemptAt: null };

function setup(store: Partial<DlqStore>) {
  const registry = new Registry();
  const metrics = drainMetrics(registry);
  const parker = new Parker(store as DlqStore, metrics, createLogger('silent'), { flushMs: 1, batchSize: 100 });
  const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.drain === drain.id)?.value ?? 0;
  return { parker, value };
}

describe('Parker', () => {
  it('settles the rest of a batch as parked and a line PostgreSQL refused alone as dropped, counting it', async () => {
    const settled = new Map<string, Outcome>();
    const park = jest.fn(async (entries: ParkEntry[]): Promise<ParkResult> => ({
      parked: 2,
      dropped: [{ drain: drain.id, app: drain.token, count: 3 }],
      quarantined: [{ row: entries[1], err: Object.assign(new Error('invalid byte sequence'), { code: '22021' }) }],
    }));
    const { parker, value } = setup({ park });
    parker.park(drain, [item('a', '1', settled), item('b', '2', settled), item('c', '3', settled)], info);
    await parker.idle(5000);
    expect(park).toHaveBeenCalledTimes(1);
    expect(Object.fromEntries(settled)).toEqual({ a: 'parked', b: 'dropped', c: 'parked' });
    expect(await value('logway_drain_parked_total')).toBe(2);
    expect(await value('logway_drain_dlq_quarantined_total')).toBe(1);
    expect(await value('logway_drain_dlq_dropped_total')).toBe(3);
    expect(parker.backlog).toBe(0);
  });

  it('a retried line whose row update is refused is quarantined, and the lines behind it still get written', async () => {
    const settled = new Map<string, Outcome>();
    const repark = jest.fn(async () => Promise.reject(Object.assign(new Error('bad'), { code: '22P05' })));
    const park = jest.fn(async (entries: ParkEntry[]): Promise<ParkResult> => ({ parked: entries.length, dropped: [], quarantined: [] }));
    const { parker, value } = setup({ park, repark });
    parker.park(drain, [item('again', '1', settled, '42')], info);
    parker.park(drain, [item('fresh', '2', settled)], info);
    await parker.idle(5000);
    expect(Object.fromEntries(settled)).toEqual({ again: 'dropped', fresh: 'parked' });
    expect(await value('logway_drain_dlq_quarantined_total')).toBe(1);
  });

  it('keeps lines (unsettled) while PostgreSQL is down, and writes them once it answers', async () => {
    const settled = new Map<string, Outcome>();
    let down = true;
    const park = jest.fn(async (entries: ParkEntry[]): Promise<ParkResult> => {
      if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return { parked: entries.length, dropped: [], quarantined: [] };
    });
    const { parker } = setup({ park });
    parker.park(drain, [item('a', '1', settled)], info);
    await until(() => park.mock.calls.length >= 2, 'a second attempt to park');
    expect(settled.size).toBe(0);
    down = false;
    await parker.idle(10_000);
    expect(Object.fromEntries(settled)).toEqual({ a: 'parked' });
    parker.stop();
  });
});
