/** GET /apps/:app/builds/:id/result (docs/design.md §3 "Builds"), streamed. */
import { Router } from 'express';
import type { Core } from '../lib/core';
import { NotFound, Unprocessable } from '../lib/errors';
import { BuildStore, UUID_RE } from '../lib/builds/store';
import { writeBuildResult } from '../lib/builds/result';

export function buildsRouter(core: Core, store: BuildStore, opts: { pageSize: number }): Router {
  const router = Router();
  router.get('/apps/:app/builds/:id/result', core.auth, async (req, res) => {
    const id = String(req.params.id);
    // Akkeris checks the uuid before the app.
    if (!UUID_RE.test(id)) throw new Unprocessable('The specified uuid was invalid.');
    const app = await core.apps.get(String(req.params.app));
    const build = await store.findBuild(app.id, id);
    if (!build) throw new NotFound(`The specified build ${id} was not found.`);
    res.status(200);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    const head = {
      id: build.id,
      status: build.status,
      output_stream_url: `${core.config.publicUrl}/apps/${app.appKey}/builds/${build.id}/result`,
    };
    try {
      await writeBuildResult(res, head, build.status === 'queued' ? null : store.linePages(build.id, opts.pageSize));
      res.end();
    } catch (err) {
      if (!res.headersSent) throw err; // nothing written yet: the error handler still answers properly (503, ...)
      // Headers are gone: the only honest signal left is to cut the response (a truncated JSON body fails to parse).
      if (!res.destroyed) req.log.error({ err }, 'build result stream failed');
      res.destroy();
    }
  });
  return router;
}
