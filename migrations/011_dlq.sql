-- The drains' dead-letter queue: lines that exhausted their retries (or overflowed a down drain's queue).
-- state: parked (waiting for an operator), retry (asked to be resent), inflight (claimed by a worker).
CREATE TABLE drain_dlq (
  id bigserial PRIMARY KEY,
  drain_id uuid NOT NULL REFERENCES log_drains (id) ON DELETE CASCADE,
  app_key text NOT NULL,
  -- The LogLine as JSON (time, source, dyno, message, kafka position): retries render it again.
  line jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  first_attempt_at timestamptz,
  last_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'parked' CHECK (state IN ('parked', 'retry', 'inflight')),
  claimed_at timestamptz
);
CREATE INDEX drain_dlq_drain ON drain_dlq (drain_id, id);
CREATE INDEX drain_dlq_app ON drain_dlq (app_key, id);
CREATE INDEX drain_dlq_pending_retry ON drain_dlq (id) WHERE state <> 'parked';
