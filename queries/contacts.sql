-- name: contact-columns
-- fragment: the select list and joins of every contact read; the store appends filters.
SELECT c.id, c.org_id, c.name, c.phone, c.email, c.owner_id, u.name AS owner_name,
       c.tag_ids, c.attributes, c.opted_out, c.created_at, c.updated_at, c.last_activity_at
FROM contacts c LEFT JOIN users u ON u.id = c.owner_id
WHERE c.org_id = $1

-- name: contact-count
-- fragment: counts contacts matching filters the store appends.
SELECT count(*) FROM contacts c WHERE c.org_id = $1

-- name: contact-create
INSERT INTO contacts (org_id, name, phone, email, owner_id, tag_ids, attributes, opted_out)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id;

-- name: contact-update
UPDATE contacts SET name = $3, phone = $4, email = $5, owner_id = $6, tag_ids = $7, attributes = $8,
       opted_out = $9, updated_at = now(), last_activity_at = now()
WHERE org_id = $1 AND id = $2;

-- name: contact-delete
DELETE FROM contacts WHERE org_id = $1 AND id = $2;

-- name: contact-id-by-phone
SELECT id FROM contacts WHERE org_id = $1 AND phone = $2;

-- name: contacts-tag
-- Bulk: add tag $3 to the selected contacts that do not have it yet.
UPDATE contacts SET tag_ids = array_append(tag_ids, $3::bigint), updated_at = now()
WHERE org_id = $1 AND id = ANY($2::bigint[]) AND NOT tag_ids @> ARRAY[$3::bigint]
RETURNING id;

-- name: contacts-untag
UPDATE contacts SET tag_ids = array_remove(tag_ids, $3::bigint), updated_at = now()
WHERE org_id = $1 AND id = ANY($2::bigint[]) AND tag_ids @> ARRAY[$3::bigint]
RETURNING id;

-- name: contacts-assign
UPDATE contacts SET owner_id = $3, updated_at = now()
WHERE org_id = $1 AND id = ANY($2::bigint[]) AND owner_id IS DISTINCT FROM $3
RETURNING id;

-- name: contacts-delete
DELETE FROM contacts WHERE org_id = $1 AND id = ANY($2::bigint[]) RETURNING id;

-- name: tags
SELECT t.id, t.org_id, t.name, t.color, t.created_at,
       (SELECT count(*) FROM contacts c WHERE c.org_id = t.org_id AND c.tag_ids @> ARRAY[t.id]) AS count
FROM tags t WHERE t.org_id = $1 ORDER BY lower(t.name);

-- name: tags-page
-- A page of an org's tags in the order they were made, after id $2 (0: from the first),
-- with how many contacts carry each. The counts come from one pass over the org's contacts
-- for the whole page: a count per tag may read every contact of the org once per tag (a page
-- of 100 took 0.5–0.9 s over 20,000 contacts where one pass takes 20–60 ms; BenchmarkAPITagsWalk).
WITH page AS (
    SELECT id, org_id, name, color, created_at FROM tags
    WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3
), counts AS (
    SELECT x.tag_id, count(DISTINCT c.id) AS count
    FROM contacts c, unnest(c.tag_ids) x(tag_id)
    WHERE c.org_id = $1 AND c.tag_ids && ARRAY(SELECT id FROM page) AND x.tag_id IN (SELECT id FROM page)
    GROUP BY x.tag_id
)
SELECT p.id, p.org_id, p.name, p.color, p.created_at, COALESCE(n.count, 0) AS count
FROM page p LEFT JOIN counts n ON n.tag_id = p.id
ORDER BY p.id;

-- name: tag-create
INSERT INTO tags (org_id, name, color) VALUES ($1, $2, $3)
RETURNING id, org_id, name, color, created_at, 0::bigint AS count;

-- name: tag-by-name
SELECT id, org_id, name, color, created_at, 0::bigint AS count FROM tags WHERE org_id = $1 AND lower(name) = lower($2);

-- name: tag-update
UPDATE tags SET name = $3, color = $4 WHERE org_id = $1 AND id = $2;

-- name: tag-delete
DELETE FROM tags WHERE org_id = $1 AND id = $2;

-- name: tag-strip
-- A deleted tag leaves every contact that had it.
UPDATE contacts SET tag_ids = array_remove(tag_ids, $2::bigint) WHERE org_id = $1 AND tag_ids @> ARRAY[$2::bigint];

-- name: fields
SELECT id, org_id, key, label, type, choices, position, created_at FROM contact_fields
WHERE org_id = $1 ORDER BY position, id;

-- name: fields-page
-- A page of an org's custom fields in the order they were made, after id $2 (0: from the first).
SELECT id, org_id, key, label, type, choices, position, created_at FROM contact_fields
WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: field-create
INSERT INTO contact_fields (org_id, key, label, type, choices, position)
VALUES ($1, $2, $3, $4, $5, (SELECT coalesce(max(position), 0) + 1 FROM contact_fields WHERE org_id = $1))
RETURNING id;

-- name: field-delete
DELETE FROM contact_fields WHERE org_id = $1 AND id = $2 RETURNING key;

-- name: field-strip
-- A deleted field's values leave every contact.
UPDATE contacts SET attributes = attributes - $2::text WHERE org_id = $1 AND attributes ? $2::text;

-- name: contact-event-insert
INSERT INTO contact_events (org_id, contact_id, kind, actor_id, data) VALUES ($1, $2, $3, $4, $5);

-- name: contact-events-insert-many
-- One timeline line for each of many contacts (bulk actions, imports).
INSERT INTO contact_events (org_id, contact_id, kind, actor_id, data)
SELECT $1, id, $3, $4, $5 FROM unnest($2::bigint[]) AS id;

-- name: contact-events
SELECT e.id, e.org_id, e.contact_id, e.kind, e.actor_id, u.name AS actor_name, e.data, e.created_at
FROM contact_events e LEFT JOIN users u ON u.id = e.actor_id
WHERE e.org_id = $1 AND e.contact_id = $2 AND ($3 = 0 OR e.id < $3)
ORDER BY e.id DESC LIMIT $4;

-- name: segments
SELECT id, org_id, name, filter, created_by, created_at, updated_at FROM segments
WHERE org_id = $1 ORDER BY lower(name);

-- name: segments-page
-- A page of an org's segments in the order they were made, after id $2 (0: from the first).
SELECT id, org_id, name, filter, created_by, created_at, updated_at FROM segments
WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: segment
SELECT id, org_id, name, filter, created_by, created_at, updated_at FROM segments WHERE org_id = $1 AND id = $2;

-- name: segment-create
INSERT INTO segments (org_id, name, filter, created_by) VALUES ($1, $2, $3, $4) RETURNING id;

-- name: segment-update
UPDATE segments SET name = $3, filter = $4, updated_at = now() WHERE org_id = $1 AND id = $2;

-- name: segment-delete
DELETE FROM segments WHERE org_id = $1 AND id = $2;

-- name: contact-opt-out
-- A customer's STOP (or SAIR, PARAR): they no longer get messages on this channel kind.
UPDATE contacts SET opted_out = array_append(opted_out, $3::text), updated_at = now()
WHERE org_id = $1 AND id = $2 AND NOT $3::text = ANY(opted_out);

-- name: contact-opt-in
UPDATE contacts SET opted_out = array_remove(opted_out, $3::text), updated_at = now()
WHERE org_id = $1 AND id = $2 AND $3::text = ANY(opted_out);
