/** Log sessions (docs/design.md §3): create (authenticated) and the stream URL (the signed token is the auth). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { siteKey } from '../lib/sites';
import { parseSessionRequest } from '../lib/tail/params';
import type { SessionClaims } from '../lib/tail/token';

export interface LogSessionsDeps {
  createSession(claims: SessionClaims): object;
  openStream(req: IncomingMessage, res: ServerResponse, token: string, format?: unknown): Promise<void>;
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

  // Nodes wired by bin/wiring serve this URL ahead of Express (lib/tail/stream-route); this route
  // serves it in apps built without that (supertest) and for forms the lean path leaves to Express.
  router.get('/log-sessions/:token', (req, res) => deps.openStream(req, res, String(req.params.token), req.query.format));
  return router;
}
