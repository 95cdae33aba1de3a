/** The builds slice: the alamobuildlogs consumer and the store GET /apps/:app/builds/:id/result (routes/builds.ts) reads. */
import type { Core, Feature } from '../core';
import { BUILD_TOPIC } from '../log/parse';
import { BuildStore } from './store';
import { BuildConsumer, buildMetrics } from './consumer';

export interface BuildsFeatureOptions {
  /** Kafka consumer group; nodes sharing it split the topic's partitions. Default `logway-builds`. */
  groupId?: string;
  /** Default `alamobuildlogs`. */
  topic?: string;
  /** Where a new group starts; default true, so a new deployment picks up the builds Kafka still retains. */
  fromBeginning?: boolean;
  /** Lines fetched from PostgreSQL per page while streaming a result. Default 5000. */
  pageSize?: number;
  /** false: serve results without consuming (a read-only node). Default true. */
  consume?: boolean;
  restartDelayMs?: number;
}

export interface BuildsFeature extends Feature {
  name: 'builds';
  store: BuildStore;
  /** Lines fetched from PostgreSQL per page while streaming a result. */
  pageSize: number;
}

export function createBuildsFeature(core: Core, opts: BuildsFeatureOptions = {}): BuildsFeature {
  const store = new BuildStore(core.db, core.apps);
  const consumer = new BuildConsumer(core, store, buildMetrics(core), {
    groupId: opts.groupId ?? 'logway-builds',
    topic: opts.topic ?? BUILD_TOPIC,
    fromBeginning: opts.fromBeginning ?? true,
    restartDelayMs: opts.restartDelayMs ?? 5000,
  });
  const consume = opts.consume ?? true;
  return {
    name: 'builds',
    store,
    pageSize: opts.pageSize ?? 5000,
    start: async () => {
      if (consume) await consumer.start();
    },
    stop: () => consumer.stop(),
  };
}
