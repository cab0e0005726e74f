-- name: apikey-create
INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by, scope) VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at, scope;

-- name: apikeys
SELECT id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at, scope
FROM api_keys WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC;

-- name: apikey-by-hash
-- cross-org: a request with an API key has no org yet; the key's hash is what names the org.
SELECT id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at, scope
FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL;

-- name: apikey-touch
-- Last-used time, written at most once a minute so a busy integration does not write on every call.
UPDATE api_keys SET last_used_at = now()
WHERE org_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: apikey-revoke
UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
RETURNING name;

-- name: api-idempotency-claim
-- Takes an Idempotency-Key for the first request that sends it (nothing when another has it;
-- a key older than a day is free again).
INSERT INTO api_idempotency AS i (org_id, idem_key, key_id, request_hash) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, idem_key) DO UPDATE SET key_id = excluded.key_id, request_hash = excluded.request_hash,
    status = NULL, content_type = '', body = NULL, created_at = now()
    WHERE i.created_at < now() - interval '1 day'
RETURNING true;

-- name: api-idempotency
SELECT request_hash, status, content_type, body FROM api_idempotency
WHERE org_id = $1 AND idem_key = $2 AND created_at >= now() - interval '1 day';

-- name: api-idempotency-done
-- The first request's answer, kept for its repeats.
UPDATE api_idempotency SET status = $3, content_type = $4, body = $5 WHERE org_id = $1 AND idem_key = $2;

-- name: api-idempotency-drop
-- The first request failed on our side (5xx): the key is free for a retry.
DELETE FROM api_idempotency WHERE org_id = $1 AND idem_key = $2 AND status IS NULL;

-- name: api-idempotency-delete-old
-- cross-org: the hourly cleanup forgets every org's keys older than a day.
DELETE FROM api_idempotency WHERE created_at < now() - interval '1 day';
