/** Every slice of logway, wired from one Core. bin/server and the integration tests both use this list. */
import { Core, Feature } from './core';
import { createTailFeature, TailFeatureOptions } from './tail/feature';
import { createDrainsFeature, DrainsOptions } from '../drains/feature';
import { createMetricsFeature, MetricsFeatureOptions } from './metrics';
import { createBuildsFeature, BuildsFeatureOptions } from './builds/feature';
import { createLogEventsFeature } from './events';

export interface FeaturesOptions {
  tail?: TailFeatureOptions;
  drains?: DrainsOptions;
  metrics?: MetricsFeatureOptions;
  builds?: BuildsFeatureOptions;
}

export function createFeatures(core: Core, opts: FeaturesOptions = {}): Feature[] {
  return [
    createTailFeature(core, opts.tail),
    createDrainsFeature(core, opts.drains),
    createMetricsFeature(core, opts.metrics),
    createBuildsFeature(core, opts.builds),
    createLogEventsFeature(core),
  ];
}
