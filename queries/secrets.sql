-- name: secret-put
INSERT INTO org_secrets (org_id, name, sealed) VALUES ($1, $2, $3)
ON CONFLICT (org_id, name) DO UPDATE SET sealed = excluded.sealed, updated_at = now();

-- name: secret-get
SELECT sealed FROM org_secrets WHERE org_id = $1 AND name = $2;

-- name: secrets-all
-- cross-org: key rotation re-seals every org's secrets.
SELECT org_id, name, sealed FROM org_secrets ORDER BY org_id, name;

-- name: secret-reseal
UPDATE org_secrets SET sealed = $4 WHERE org_id = $1 AND name = $2 AND sealed = $3;
