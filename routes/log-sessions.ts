/** Log sessions (DESIGN §3): create (authenticated) and the stream URL (the signed token is the auth). */
import { Router, Request, Response } from 'express';
import type { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { NotFound } from '../lib/errors';
import { parseSessionRequest } from '../lib/tail/params';
import type { SessionClaims } from '../lib/tail/token';

export interface LogSessionsDeps {
  createSession(claims: SessionClaims): object;
  openStream(req: Request, res: Response): Promise<void>;
  maxLines: number;
}

/** A site is a host name (`www.example.com`); sites are not in the app registry. */
const SITE = /^[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9](?:[a-z0-9-]{0,62}))*$/i;

export function logSessionsRouter(core: Core, deps: LogSessionsDeps): Router {
  const router = Router();
  const max = deps.maxLines;

  router.post('/apps/:app/log-sessions', core.auth, jsonBody, async (req, res) => {
    const app = await core.apps.get(String(req.params.app));
    const claims = parseSessionRequest(req.body ?? {}, { kind: 'app', key: app.appKey }, { maxLines: max });
    res.status(201).json(deps.createSession(claims));
  });

  router.post('/sites/:site/log-sessions', core.auth, jsonBody, async (req, res) => {
    const site = String(req.params.site).toLowerCase();
    if (!SITE.test(site) || site.length > 253) throw new NotFound(`The specified site ${req.params.site} does not exist.`);
    const claims = parseSessionRequest(req.body ?? {}, { kind: 'site', key: site }, { maxLines: max });
    res.status(201).json(deps.createSession(claims));
  });

  router.get('/log-sessions/:token', (req, res) => deps.openStream(req, res));
  return router;
}
