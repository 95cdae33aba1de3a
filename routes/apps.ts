/** `GET /apps/:app`: enough of Heroku's app object for the Heroku CLI to be pointed at logway. */
import { Router } from 'express';
import type { Core } from '../lib/core';

export function appsRouter(core: Core): Router {
  const router = Router();
  router.get('/apps/:app', core.auth, async (req, res) => {
    const app = await core.apps.get(String(req.params.app));
    // `generation` tells the Heroku CLI (11.x) to use the Cedar log-session flow.
    res.json({ id: app.id, name: app.appKey, generation: 'cedar' });
  });
  return router;
}
