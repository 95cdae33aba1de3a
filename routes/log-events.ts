/** POST /log-events: platform events into the app's log stream (Akkeris logshuttle's private endpoint). */
import { Router } from 'express';
import type { Core } from '../lib/core';
import { jsonBody } from '../lib/http';
import { publishLogEvent, validateLogEvent, SpaceTopics } from '../lib/events';
import { credentialOf, forbiddenApp } from '../lib/auth';
import { mayTouchApp } from '../lib/credential';

export function logEventsRouter(core: Core, spaces: SpaceTopics): Router {
  const router = Router();
  router.post('/log-events', core.auth, jsonBody, async (req, res) => {
    const spec = validateLogEvent(req.body);
    const appKey = `${spec.kubernetes.container_name}-${spec.topic}`;
    if (!mayTouchApp(credentialOf(res), appKey)) throw forbiddenApp(appKey);
    await publishLogEvent({ kafka: core.kafka, apps: core.apps, spaces }, spec);
    // Akkeris answers 201 with the LogSpec it produced.
    res.status(201).json(spec);
  });
  return router;
}
