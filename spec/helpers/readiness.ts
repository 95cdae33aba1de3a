/** /health/ready as the quarantine specs read it: the answer, and the entry a quarantined partition gets. */
import type { Express } from 'express';
import request from 'supertest';
import type { QuarantineDetail } from '../../routes/health';
import { waitFor } from './wait';

export interface ReadyAnswer {
  status: number;
  body: { state: string; message?: string; dependencies: Record<string, unknown>; quarantined?: QuarantineDetail[] };
}

export async function ready(app: Express): Promise<ReadyAnswer> {
  const res = await request(app).get('/health/ready');
  return { status: res.status, body: res.body };
}

/** The first answer that lists a quarantined partition of `topic`. */
export function quarantineShown(app: Express, topic: string): Promise<ReadyAnswer> {
  return waitFor('the quarantine on /health/ready', async () => {
    const r = await ready(app);
    return r.body.quarantined?.some((q) => q.topic === topic) && r;
  });
}

/** The entry /health/ready gives partition 1 of `topic`, held by `consumer` for `reason`. */
export const quarantinedEntry = (consumer: string, topic: string, reason: unknown) => ({
  consumer,
  topic,
  partition: 1,
  state: 'quarantined',
  since: expect.stringMatching(/Z$/),
  retry_at: expect.stringMatching(/Z$/),
  reason,
});
