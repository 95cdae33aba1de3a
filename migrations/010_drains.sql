-- Log drains (docs/design.md §3 "Log drains"). token = the app key (`api-space`) or the site name; kind says which.
CREATE TABLE log_drains (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('app', 'site')),
  token text NOT NULL,
  url text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Akkeris compares urls trimmed and case-insensitively when refusing a duplicate.
CREATE UNIQUE INDEX log_drains_token_url ON log_drains (kind, token, lower(btrim(url)));
CREATE INDEX log_drains_token ON log_drains (token);

-- Drain workers keep a cache of drains; every change wakes them (LISTEN logway_drains) within seconds.
CREATE FUNCTION log_drains_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('logway_drains', COALESCE(NEW.token, OLD.token));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER log_drains_changed AFTER INSERT OR UPDATE OR DELETE ON log_drains
  FOR EACH ROW EXECUTE FUNCTION log_drains_notify();
