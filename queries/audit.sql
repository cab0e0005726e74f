-- name: audit-insert
INSERT INTO audit_log (org_id, user_id, action, target, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6);

-- name: audit-list
-- Newest first, keyset-paginated on id ($2 = 0 starts at the newest).
SELECT a.id, a.org_id, a.user_id, u.name AS user_name, a.action, a.target, a.ip, a.user_agent, a.created_at
FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
WHERE a.org_id = $1 AND ($2 = 0 OR a.id < $2)
ORDER BY a.id DESC LIMIT $3;
