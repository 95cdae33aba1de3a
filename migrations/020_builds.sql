-- Builds and their output lines, consumed from the alamobuildlogs topic (docs/design.md §2 "Build logs").
CREATE TABLE builds (
  id uuid PRIMARY KEY,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  -- The build system's build number (the message's "job").
  job text NOT NULL DEFAULT '',
  status text NOT NULL CHECK (status IN ('queued', 'pending', 'succeeded', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX builds_app_id_idx ON builds (app_id);

-- One row per Kafka message carrying text. The key is the build plus the message's Kafka position, so a
-- redelivered message (same topic/partition/offset, same record timestamp) is stored once. Its leading
-- columns are also the read order: record time, then partition and offset (offset order within a partition).
CREATE TABLE build_lines (
  build_id uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  kafka_ts bigint NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  kafka_topic text NOT NULL,
  message text NOT NULL,
  PRIMARY KEY (build_id, kafka_ts, kafka_partition, kafka_offset, kafka_topic)
);
