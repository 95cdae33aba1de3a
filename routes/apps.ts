/** `GET /apps/:app`: enough of Heroku's app object for the Heroku CLI to be pointed at logway. */
import { Router } from 'express';
import type { Core } from '../lib/core';

export function appsRouter(core: Core): Router {
  const router = Router();
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
