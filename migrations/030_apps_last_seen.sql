-- When a node last saw a line of the app (the console's app list); written at most once a minute per app per node.
ALTER TABLE apps ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX apps_last_seen_at ON apps (last_seen_at DESC);
