-- name: invite-create
INSERT INTO invites (org_id, email, role, token_hash, invited_by, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, org_id, '' AS org_name, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at;

-- name: invites-pending
SELECT i.id, i.org_id, o.name AS org_name, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at
FROM invites i JOIN orgs o ON o.id = i.org_id
WHERE i.org_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
ORDER BY i.created_at DESC;

-- name: invite-by-token
-- cross-org: the person opening an invite link is not a member yet; the secret token is the key.
SELECT i.id, i.org_id, o.name AS org_name, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at
FROM invites i JOIN orgs o ON o.id = i.org_id
WHERE i.token_hash = $1;

-- name: invite-accept
UPDATE invites SET accepted_at = now(), accepted_by = $3
WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now();

-- name: invite-revoke
UPDATE invites SET revoked_at = now()
WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL;
