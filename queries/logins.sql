-- name: login-attempt-insert
INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3);

-- name: login-failures-recent
-- Failed logins for an email since its last success within the window.
SELECT count(*) FROM login_attempts
WHERE email = $1 AND NOT succeeded AND created_at > now() - $2::interval
  AND created_at > coalesce((SELECT max(created_at) FROM login_attempts WHERE email = $1 AND succeeded), '-infinity');

-- name: login-attempts-delete-old
DELETE FROM login_attempts WHERE created_at < now() - interval '1 day';
