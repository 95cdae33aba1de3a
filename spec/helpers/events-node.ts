/** An app with the log-events and tail features on one core, for the platform-event specs (the space topic created). */
import express from 'express';
import { createApp } from '../../bin/wiring';
import { closeCore, Core, Feature } from '../../lib/core';
import { createLogEventsFeature } from '../../lib/events';
import { createTailFeature } from '../../lib/tail/feature';
import { createTestCore } from './env';

export interface EventsNode {
  core: Core;
  app: express.Express;
  stop(): Promise<void>;
}

export async function startEventsNode(space: string): Promise<EventsNode> {
  const core = createTestCore();
  // A space exists once the platform created its topic; events for any other space are refused.
  await core.kafka.createTopic(space);
  const features: Feature[] = [createLogEventsFeature(core), createTailFeature(core)];
  for (const f of features) await f.start?.();
  const app = createApp(core, features);
  return {
    core,
    app,
    async stop() {
      for (const f of [...features].reverse()) await f.stop?.();
      await closeCore(core);
    },
  };
}
