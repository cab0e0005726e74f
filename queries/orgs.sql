-- name: org-create
INSERT INTO orgs (name) VALUES ($1) RETURNING id, name, default_country, created_at, updated_at;

-- name: org-by-id
SELECT id, name, default_country, created_at, updated_at FROM orgs WHERE id = $1;

-- name: org-rename
UPDATE orgs SET name = $2, updated_at = now() WHERE id = $1
RETURNING id, name, default_country, created_at, updated_at;

-- name: org-checklist
-- What the getting-started checklist of the home page needs, in one round trip.
SELECT
    (SELECT count(*) FROM memberships WHERE org_id = $1) AS members,
    (SELECT count(*) FROM invites WHERE org_id = $1) AS invites,
    (SELECT count(*) FROM api_keys WHERE org_id = $1) AS api_keys,
    (SELECT o.updated_at > o.created_at + interval '1 second' FROM orgs o WHERE o.id = $1) AS renamed;

-- name: org-by-name
-- For the command line (`masteria user create --org NAME`): names are not unique, the oldest wins.
SELECT id, name, default_country, created_at, updated_at FROM orgs WHERE name = $1 ORDER BY id LIMIT 1;

-- name: org-set-country
UPDATE orgs SET default_country = $2, updated_at = now() WHERE id = $1;

-- name: org-set-time-zone
-- The zone campaigns are scheduled in (model.TimeZones).
UPDATE orgs SET time_zone = $2, updated_at = now() WHERE id = $1;
