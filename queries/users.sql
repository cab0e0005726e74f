-- name: user-create
INSERT INTO users (email, name, password_hash, locale) VALUES ($1, $2, $3, $4)
RETURNING id, email, name, password_hash, locale, theme, created_at;

-- name: user-by-id
SELECT id, email, name, password_hash, locale, theme, created_at FROM users WHERE id = $1;

-- name: user-by-email
SELECT id, email, name, password_hash, locale, theme, created_at FROM users WHERE email = $1;

-- name: user-update-profile
UPDATE users SET name = $2, locale = $3, theme = $4, updated_at = now() WHERE id = $1;

-- name: user-set-locale
UPDATE users SET locale = $2, updated_at = now() WHERE id = $1;

-- name: user-set-password
UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1;

-- name: user-identity
SELECT user_id FROM user_identities WHERE provider = $1 AND subject = $2;

-- name: user-identity-create
INSERT INTO user_identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)
ON CONFLICT (provider, subject) DO NOTHING;

-- name: user-set-theme
UPDATE users SET theme = $2, updated_at = now() WHERE id = $1;
