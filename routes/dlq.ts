/** The drains' dead-letter queue (docs/drains.md): list/count, retry, discard, by id or by drain. */
import { Router, Request, Response } from 'express';
import { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { BadRequest, Forbidden, Unprocessable } from '../lib/errors';
import { credentialOf, forbiddenApp } from '../lib/auth';
import { mayTouchOwner } from '../lib/credential';
import { DlqSelector, DlqStore, dlqDropsJson, dlqEntryJson } from '../drains/dlq';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DLQ_DEFAULT_LIMIT = 100;
export const DLQ_MAX_LIMIT = 1000;

function asList(v: unknown): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return [v];
}

/** `id`/`ids` (numbers or numeric strings), `drain` (uuid), `app` (app key or site), from the query and/or a JSON body. */
export function dlqSelector(query: Record<string, unknown>, body: unknown): DlqSelector {
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const ids = [...asList(query.id), ...asList(query.ids), ...asList(b.id), ...asList(b.ids)].map((v) => String(v).trim());
  for (const id of ids) {
    if (!/^\d{1,18}$/.test(id)) throw new Unprocessable(`The specified DLQ id ${id} is not valid (a positive integer).`);
  }
  const drain = b.drain ?? query.drain;
  if (drain !== undefined && (typeof drain !== 'string' || !UUID.test(drain))) {
    throw new Unprocessable(`The specified drain ${String(drain)} is not a valid drain id (a uuid).`);
  }
  const app = b.app ?? query.app;
  if (app !== undefined && (typeof app !== 'string' || app.trim() === '')) throw new Unprocessable('The specified app is not valid.');
  const sel: DlqSelector = {};
  if (ids.length) sel.ids = ids;
  if (typeof drain === 'string') sel.drain = drain.toLowerCase();
  if (typeof app === 'string') sel.app = app.trim();
  return sel;
}

export function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return DLQ_DEFAULT_LIMIT;
  const text = String(raw);
  if (!/^\d+$/.test(text)) throw new Unprocessable(`The specified limit ${text} was not a number between 0 and ${DLQ_MAX_LIMIT}.`);
  const n = Number(text);
  if (n > DLQ_MAX_LIMIT) throw new Unprocessable(`The specified limit ${text} was larger than allowed (${DLQ_MAX_LIMIT} is the maximum).`);
  return n;
}

function requireTarget(sel: DlqSelector, verb: string): void {
  if (!sel.ids && !sel.drain && !sel.app) {
    throw new BadRequest(`The request did not say which lines to ${verb}: give "id", "ids", "drain" or "app" (or "all": true).`);
  }
}

/** A scoped credential reaches only the DLQ rows of an owner it may touch, and must say which. */
function scoped(res: Response, sel: DlqSelector): DlqSelector {
  const cred = credentialOf(res);
  if (cred.kind === 'operator') return sel;
  if (!sel.app) throw new Forbidden('Forbidden: a scoped credential must name the "app" (an app key or site) whose DLQ it reads.');
  if (!mayTouchOwner(cred, sel.app)) throw forbiddenApp(sel.app);
  return sel;
}

const wantsAll = (req: Request) => (req.body as { all?: unknown } | undefined)?.all === true || req.query.all === 'true';

export function dlqRouter(core: Core, dlq: DlqStore): Router {
  const router = Router();

  router.get('/drains/dlq', core.auth, async (req, res) => {
    const sel = scoped(res, dlqSelector(req.query as Record<string, unknown>, undefined));
    const limit = parseLimit(req.query.limit);
    const [{ count, items }, drops] = await Promise.all([dlq.list(sel, limit), dlq.droppedByDrain(sel)]);
    res.json({
      count,
      items: items.map(dlqEntryJson),
      // Lines dropped (oldest first) to keep each drain within MAX_DLQ_ROWS_PER_DRAIN, for the drains selected.
      dropped: drops.reduce((n, d) => n + d.dropped, 0),
      dropped_by_drain: drops.map(dlqDropsJson),
    });
  });

  router.post('/drains/dlq/retry', core.auth, jsonBody, async (req, res) => {
    const sel = scoped(res, dlqSelector(req.query as Record<string, unknown>, req.body));
    if (!wantsAll(req)) requireTarget(sel, 'retry');
    const retried = await dlq.requestRetry(sel);
    req.log.info({ ...sel, retried }, 'dlq retry requested');
    res.status(202).json({ retried });
  });

  router.delete('/drains/dlq', core.auth, jsonBody, async (req, res) => {
    const sel = scoped(res, dlqSelector(req.query as Record<string, unknown>, req.body));
    if (!wantsAll(req)) requireTarget(sel, 'discard');
    const discarded = await dlq.discard(sel);
    req.log.info({ ...sel, discarded }, 'dlq lines discarded');
    res.json({ discarded });
  });

  return router;
}
