-- Lines a drain's DLQ dropped (oldest first) to stay within MAX_DLQ_ROWS_PER_DRAIN: kept in PostgreSQL so
-- GET /drains/dlq shows every node's drops. Deleting the drain forgets them with its DLQ lines.
CREATE TABLE drain_dlq_dropped (
  drain_id uuid PRIMARY KEY REFERENCES log_drains (id) ON DELETE CASCADE,
  app_key text NOT NULL,
  dropped bigint NOT NULL DEFAULT 0,
  last_dropped_at timestamptz NOT NULL DEFAULT now()
);
