-- Quick replies: saved answers agents insert in the composer by typing "/" and a shortcut.

-- name: quick-replies
SELECT id, org_id, shortcut, title, body, created_by, created_at, updated_at
FROM quick_replies WHERE org_id = $1 ORDER BY shortcut;

-- name: quick-replies-prefix
-- The composer's popup: shortcuts starting with $2 (already escaped for LIKE), or titles
-- with a word starting with it; accents and case do not matter ("orcam" finds "Envio de
-- Orçamento").
SELECT id, org_id, shortcut, title, body, created_by, created_at, updated_at
FROM quick_replies WHERE org_id = $1 AND (shortcut LIKE fold($2) || '%' OR ' ' || fold(title) LIKE '% ' || fold($2) || '%')
ORDER BY shortcut LIMIT $3;

-- name: quick-reply
SELECT id, org_id, shortcut, title, body, created_by, created_at, updated_at
FROM quick_replies WHERE org_id = $1 AND id = $2;

-- name: quick-reply-create
INSERT INTO quick_replies (org_id, shortcut, title, body, created_by) VALUES ($1, $2, $3, $4, $5)
RETURNING id, org_id, shortcut, title, body, created_by, created_at, updated_at;

-- name: quick-reply-update
UPDATE quick_replies SET shortcut = $3, title = $4, body = $5, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING id, org_id, shortcut, title, body, created_by, created_at, updated_at;

-- name: quick-reply-delete
DELETE FROM quick_replies WHERE org_id = $1 AND id = $2;
