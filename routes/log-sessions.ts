/**
 * Log sessions (docs/design.md §3): create and revoke (authenticated), and the stream URL (the
 * signed token is the auth).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { credentialOf, forbiddenApp } from '../lib/auth';
import { mayTouchApp, mayTouchSite } from '../lib/credential';
import { Forbidden, NotFound } from '../lib/errors';
import { siteKey } from '../lib/sites';
import { parseSessionRequest } from '../lib/tail/params';
import type { SessionClaims } from '../lib/tail/token';
import type { SessionTarget } from '../lib/tail/session-id';

export interface LogSessionsDeps {
  createSession(claims: SessionClaims): object;
  openStream(req: IncomingMessage, res: ServerResponse, token: string, format?: unknown): Promise<void>;
  sessionTarget(id: string): SessionTarget | null;
  revokeSession(target: SessionTarget): Promise<Date>;
  maxLines: number;
}

export function logSessionsRouter(core: Core, deps: LogSessionsDeps): Router {
  const router = Router();
  const max = deps.maxLines;
  const { maxFilterLength, maxSinceSeconds } = core.config;

  router.post('/apps/:app/log-sessions', core.readAuth, jsonBody, async (req, res) => {
    const app = await core.apps.get(String(req.params.app));
    const claims = parseSessionRequest(req.body ?? {}, { kind: 'app', key: app.appKey }, { maxLines: max, maxFilterLength, maxSinceSeconds });
    res.status(201).json(deps.createSession(claims));
  });

  router.post('/sites/:site/log-sessions', core.readAuth, jsonBody, async (req, res) => {
    const site = siteKey(String(req.params.site));
    const claims = parseSessionRequest(req.body ?? {}, { kind: 'site', key: site }, { maxLines: max, maxFilterLength, maxSinceSeconds });
    res.status(201).json(deps.createSession(claims));
  });

  // Operators revoke any session; a scoped credential, read-only included, those of its apps and
  // sites (it may create them). An id logway did not mint is 404 whoever asks. The segment is named
  // `:token` as in the stream's route because OpenAPI gives a path one parameter name; it holds the
  // session's id (the 201 body's `id`), never its token.
  router.delete('/log-sessions/:token', core.readAuth, async (req, res) => {
    const id = String(req.params.token);
    const target = deps.sessionTarget(id);
    if (!target) throw new NotFound('The specified log session was not found.');
    const cred = credentialOf(res);
    if (target.kind === 'app' && !mayTouchApp(cred, target.key)) throw forbiddenApp(target.key);
    if (target.kind === 'site' && !mayTouchSite(cred, target.key)) {
      throw new Forbidden(`Forbidden: this credential may not touch the site ${target.key.slice(0, 253)}.`);
    }
    const revokedAt = await deps.revokeSession(target);
    res.status(200).json({ id, revoked_at: revokedAt.toISOString() });
  });

  // Nodes wired by bin/wiring serve this URL ahead of Express (lib/tail/stream-route); this route
  // serves it in apps built without that (supertest) and for forms the lean path leaves to Express.
  router.get('/log-sessions/:token', (req, res) => deps.openStream(req, res, String(req.params.token), req.query.format));
  return router;
}
