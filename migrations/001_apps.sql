-- Apps are learned from the log stream (first line seen registers app-space) or registered by the platform.
CREATE TABLE apps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  space text NOT NULL,
  app_key text GENERATED ALWAYS AS (name || '-' || space) STORED UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
