-- kurz: when each API key was last used, for `kurz key list`.
--
-- Written by the management service at most once a minute per key, in the same statement
-- that authenticates the request, so a busy key costs no extra write per request.

ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
