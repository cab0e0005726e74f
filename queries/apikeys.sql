-- name: apikey-create
INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by) VALUES ($1, $2, $3, $4, $5)
RETURNING id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at;

-- name: apikeys
SELECT id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at
FROM api_keys WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC;

-- name: apikey-by-hash
-- cross-org: a request with an API key has no org yet; the key's hash is what names the org.
SELECT id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at
FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL;

-- name: apikey-touch
-- Last-used time, written at most once a minute so a busy integration does not write on every call.
UPDATE api_keys SET last_used_at = now()
WHERE org_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: apikey-revoke
UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
RETURNING name;
