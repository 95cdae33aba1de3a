/** POST /log-events: platform events into the app's log stream (Akkeris logshuttle's private endpoint). */
import { Router } from 'express';
import type { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { publishLogEvent, validateLogEvent, SpaceTopics } from '../lib/events';

export function logEventsRouter(core: Core, spaces: SpaceTopics): Router {
  const router = Router();
  router.post('/log-events', core.auth, jsonBody, async (req, res) => {
    const spec = validateLogEvent(req.body);
    await publishLogEvent({ kafka: core.kafka, apps: core.apps, spaces }, spec);
    // Akkeris answers 201 with the LogSpec it produced.
    res.status(201).json(spec);
  });
  return router;
}
