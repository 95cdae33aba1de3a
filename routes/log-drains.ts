/**
 * `/apps/:app/log-drains` and `/sites/:site/log-drains` (docs/design.md §3 "Log drains"): thin; the store
 * validates (url, destination policy, MAX_DRAINS_PER_APP) and stores.
 */
import { Router, Request } from 'express';
import { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { siteKey } from '../lib/sites';
import { DrainKind, DrainStore, drainJson } from '../drains/store';
import { requireUrlParam } from '../drains/url';
import { DestinationPolicy } from '../drains/destination';

export function logDrainsRouter(core: Core, store: DrainStore): Router {
  const router = Router();
  const destinations = DestinationPolicy.fromConfig(core.config);

  /** The drain owner: an app that must exist (404 with Akkeris's text), or a site (any valid host name). */
  async function owner(req: Request): Promise<{ kind: DrainKind; token: string }> {
    if (req.params.app !== undefined) {
      const app = await core.apps.get(String(req.params.app));
      return { kind: 'app', token: app.appKey };
    }
    return { kind: 'site', token: siteKey(String(req.params.site)) };
  }

  for (const base of ['/apps/:app/log-drains', '/sites/:site/log-drains']) {
    router.post(base, core.auth, jsonBody, async (req, res) => {
      const { kind, token } = await owner(req);
      const url = requireUrlParam(req.body);
      const drain = await store.create(kind, token, url, { destinations, maxDrains: core.config.maxDrainsPerApp });
      req.log.info({ drain: drain.id, token }, 'log drain created');
      res.status(201).json(drainJson(drain));
    });
    router.get(base, core.auth, async (req, res) => {
      const { kind, token } = await owner(req);
      res.json((await store.list(kind, token)).map(drainJson));
    });
    router.get(`${base}/:id`, core.auth, async (req, res) => {
      const { kind, token } = await owner(req);
      res.json(drainJson(await store.get(kind, token, String(req.params.id))));
    });
    router.delete(`${base}/:id`, core.auth, async (req, res) => {
      const { kind, token } = await owner(req);
      const drain = await store.delete(kind, token, String(req.params.id));
      req.log.info({ drain: drain.id, token }, 'log drain deleted');
      res.json(drainJson(drain));
    });
  }
  return router;
}
