/** `GET /apps/:app`: enough of Heroku's app object for the Heroku CLI to be pointed at logway; `GET /apps`: the apps logway knows. */
import { Router } from 'express';
import type { Core } from '../lib/core';
import { Unprocessable } from '../lib/errors';
import { credentialOf } from '../lib/auth';

export const APPS_DEFAULT_LIMIT = 200;
export const APPS_MAX_LIMIT = 1000;

function appsLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return APPS_DEFAULT_LIMIT;
  const text = String(raw);
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > APPS_MAX_LIMIT) {
    throw new Unprocessable(`The specified limit ${text.slice(0, 20)} was not a number between 1 and ${APPS_MAX_LIMIT}.`);
  }
  return Number(text);
}

export function appsRouter(core: Core): Router {
  const router = Router();
  // `[{"id","name","last_seen_at"}]`, most recently seen first (the web console's app list). With an
  // Akkeris controller behind us, `aka apps` is the controller's: the request goes through to the proxy.
  router.get('/apps', core.auth, async (req, res, next) => {
    if (core.config.upstreamUrl) return next();
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : undefined;
    const cred = credentialOf(res);
    const only = cred.kind === 'scoped' ? { appKeys: [...cred.apps], spaces: [...cred.spaces] } : undefined;
    res.json(await core.apps.list({ q, limit: appsLimit(req.query.limit), only }));
  });
  router.get('/apps/:app', core.auth, async (req, res, next) => {
    if (core.config.upstreamUrl) {
      // With an Akkeris controller behind us, it owns the app object (aka apps:info); logway answers only the
      // Heroku CLI's log flow for apps it knows, and lets everything else through to the proxy.
      const herokuCli = (req.get('accept') ?? '').includes('application/vnd.heroku+json');
      const known = herokuCli ? await core.apps.find(String(req.params.app)) : null;
      if (!known) return next();
      res.json({ id: known.id, name: known.appKey, generation: 'cedar' });
      return;
    }
    const app = await core.apps.get(String(req.params.app));
    // `generation` tells the Heroku CLI (11.x) to use the Cedar log-session flow.
    res.json({ id: app.id, name: app.appKey, generation: 'cedar' });
  });
  return router;
}
