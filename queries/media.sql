-- name: media-insert
INSERT INTO media (org_id, key, mime, size, filename, sha256) VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, org_id, key, mime, size, filename, sha256, created_at;

-- name: media-by-id
SELECT id, org_id, key, mime, size, filename, sha256, created_at FROM media WHERE org_id = $1 AND id = $2;

-- name: media-by-hash
-- The same bytes stored before by the org (a download job that ran twice).
SELECT id, org_id, key, mime, size, filename, sha256, created_at FROM media
WHERE org_id = $1 AND sha256 = $2 AND size = $3 ORDER BY id LIMIT 1;

-- name: media-by-id-for-link
-- cross-org: a signed media link names the file; its HMAC, checked with the org's own key
-- before anything is served, is what proves it.
SELECT id, org_id, key, mime, size, filename, sha256, created_at FROM media WHERE id = $1;

-- name: message-add-content
-- Merges keys into a message's content (the files of a downloaded attachment).
UPDATE messages SET content = content || $3 WHERE org_id = $1 AND id = $2;

-- name: media-delete
DELETE FROM media WHERE org_id = $1 AND id = $2;
