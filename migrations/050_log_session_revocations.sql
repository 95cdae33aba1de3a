-- Revoked log sessions (DELETE /log-sessions/:id), by the nonce their id and token share. A row is
-- needed only while a stream of the session could still be opened or resumed: every node drops it
-- from memory after expires_at, and revoking deletes the rows already expired.
CREATE TABLE log_session_revocations (
  nonce text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX log_session_revocations_expires_at ON log_session_revocations (expires_at);
