-- name: member-create
INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (org_id, user_id) DO NOTHING;

-- name: member
SELECT m.org_id, o.name AS org_name, m.user_id, u.name AS user_name, u.email AS user_email, m.role, m.created_at
FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.user_id = $2;

-- name: members
SELECT m.org_id, o.name AS org_name, m.user_id, u.name AS user_name, u.email AS user_email, m.role, m.created_at
FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1
ORDER BY CASE m.role WHEN 'owner' THEN 1 WHEN 'admin' THEN 2 WHEN 'manager' THEN 3 ELSE 4 END, lower(u.name);

-- name: memberships-of-user
-- cross-org: the orgs a user belongs to, for the org switcher and login; it is keyed by the user.
SELECT m.org_id, o.name AS org_name, m.user_id, u.name AS user_name, u.email AS user_email, m.role, m.created_at
FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN users u ON u.id = m.user_id
WHERE m.user_id = $1
ORDER BY lower(o.name);

-- name: member-set-role
UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2;

-- name: member-delete
DELETE FROM memberships WHERE org_id = $1 AND user_id = $2;

-- name: member-count-owners
SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'owner';

-- name: member-lock-org
-- Serializes role changes and removals in one org so the last owner can never be lost.
SELECT id FROM orgs WHERE id = $1 FOR UPDATE;
