-- Sessions belong to a user, not an org: a user keeps one login across every org they belong to.

-- name: session-create
INSERT INTO sessions (token_hash, user_id, data, ip, user_agent, expires_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id;

-- name: session-by-token
SELECT id, user_id, data, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > now();

-- name: session-update
UPDATE sessions SET data = $2, expires_at = $3, last_seen_at = now(), ip = $4, user_agent = $5
WHERE token_hash = $1;

-- name: session-delete
DELETE FROM sessions WHERE token_hash = $1;

-- name: sessions-of-user
SELECT id, user_id, ip, user_agent, created_at, last_seen_at, expires_at
FROM sessions WHERE user_id = $1 AND expires_at > now() ORDER BY last_seen_at DESC;

-- name: session-delete-of-user
DELETE FROM sessions WHERE user_id = $1 AND id = $2;

-- name: sessions-delete-of-user
-- Log out everywhere: every session of the user but, optionally, the current one.
DELETE FROM sessions WHERE user_id = $1 AND token_hash <> coalesce($2, ''::bytea);

-- name: sessions-delete-expired
DELETE FROM sessions WHERE expires_at <= now();
