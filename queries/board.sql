-- The Kanban board: pipelines, stages, leads and their moves.
--
-- Lead lists take the board's filters as parameters, each off when at its neutral value:
-- owner 0 (anyone; -1 is "nobody"), search '' (else a LIKE pattern over the title and the
-- contact's name, phone and email, compared folded: leads.search and contacts.search, 00012;
-- folded once per query, in a sub-select, not once per row), min and max value -1.
-- Cards are always in ORDER BY rank, id.

-- name: pipeline-create
INSERT INTO pipelines (org_id, name, currency, position)
VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) + 1 FROM pipelines WHERE org_id = $1))
RETURNING id, org_id, name, currency, position, created_at, updated_at;

-- name: pipelines
SELECT p.id, p.org_id, p.name, p.currency, p.position, p.created_at, p.updated_at,
    (SELECT count(*) FROM stages s WHERE s.org_id = p.org_id AND s.pipeline_id = p.id) AS stage_count,
    (SELECT count(*) FROM leads l WHERE l.org_id = p.org_id AND l.pipeline_id = p.id) AS lead_count
FROM pipelines p
WHERE p.org_id = $1
ORDER BY p.position, p.id;

-- name: pipelines-page
-- A page of an org's pipelines in the order they were made, after id $2 (0: from the first),
-- with their stage and lead counts.
SELECT p.id, p.org_id, p.name, p.currency, p.position, p.created_at, p.updated_at,
    (SELECT count(*) FROM stages s WHERE s.org_id = p.org_id AND s.pipeline_id = p.id) AS stage_count,
    (SELECT count(*) FROM leads l WHERE l.org_id = p.org_id AND l.pipeline_id = p.id) AS lead_count
FROM pipelines p
WHERE p.org_id = $1 AND p.id > $2
ORDER BY p.id LIMIT $3;

-- name: pipeline-list
-- The pipelines without their counts, for the board's picker.
SELECT id, org_id, name, currency, position, created_at, updated_at
FROM pipelines WHERE org_id = $1
ORDER BY position, id;

-- name: pipeline
SELECT id, org_id, name, currency, position, created_at, updated_at
FROM pipelines WHERE org_id = $1 AND id = $2;

-- name: pipeline-lock
-- Serializes changes to a pipeline's stages (add, reorder, delete).
SELECT id, org_id, name, currency, position, created_at, updated_at
FROM pipelines WHERE org_id = $1 AND id = $2 FOR UPDATE;

-- name: pipeline-update
UPDATE pipelines SET name = $3, currency = $4, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING id, org_id, name, currency, position, created_at, updated_at;

-- name: pipeline-delete
DELETE FROM pipelines WHERE org_id = $1 AND id = $2;

-- name: pipeline-lead-count
SELECT count(*) FROM leads WHERE org_id = $1 AND pipeline_id = $2;

-- name: stage-create
INSERT INTO stages (org_id, pipeline_id, name, color, description, outcome, position)
VALUES ($1, $2, $3, $4, $5, $6,
    (SELECT coalesce(max(position), 0) + 1 FROM stages WHERE org_id = $1 AND pipeline_id = $2))
RETURNING id, org_id, pipeline_id, name, color, description, outcome, position, created_at, updated_at;

-- name: stages
SELECT id, org_id, pipeline_id, name, color, description, outcome, position, created_at, updated_at
FROM stages WHERE org_id = $1 AND pipeline_id = $2
ORDER BY position, id;

-- name: stage-options
-- Every stage of the org with its pipeline's name, pipeline by pipeline, for filters.
SELECT s.id, s.pipeline_id, p.name AS pipeline_name, s.name
FROM stages s JOIN pipelines p ON p.id = s.pipeline_id AND p.org_id = s.org_id
WHERE s.org_id = $1
ORDER BY p.position, p.id, s.position, s.id;

-- name: stage
SELECT id, org_id, pipeline_id, name, color, description, outcome, position, created_at, updated_at
FROM stages WHERE org_id = $1 AND id = $2;

-- name: stage-lock
-- Taken by every write that gives a lead a place in this stage, so the neighbours' keys it
-- reads next are the current ones and two moves into one stage compute their keys in turn.
SELECT id, org_id, pipeline_id, name, color, description, outcome, position, created_at, updated_at
FROM stages WHERE org_id = $1 AND id = $2 FOR UPDATE;

-- name: stage-update
UPDATE stages SET name = $3, color = $4, description = $5, outcome = $6, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING id, org_id, pipeline_id, name, color, description, outcome, position, created_at, updated_at;

-- name: stage-delete
DELETE FROM stages WHERE org_id = $1 AND id = $2;

-- name: stage-lead-count
SELECT count(*) FROM leads WHERE org_id = $1 AND stage_id = $2;

-- name: stages-reorder
-- $3 is every stage id of the pipeline in the new order.
UPDATE stages s SET position = o.ord, updated_at = now()
FROM unnest($3::bigint[]) WITH ORDINALITY AS o(id, ord)
WHERE s.org_id = $1 AND s.pipeline_id = $2 AND s.id = o.id;

-- name: lead-create
INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, value_cents, owner_id, source, notes, rank, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id;

-- name: lead-read
-- fragment: the columns and joins of every lead read; each query adds its WHERE.
SELECT l.id, l.org_id, l.pipeline_id, l.stage_id, l.contact_id, c.name AS contact_name, c.phone AS contact_phone,
    l.title, l.value_cents, l.owner_id, o.name AS owner_name, l.source, l.notes, l.rank,
    l.created_by, l.created_at, l.updated_at, l.moved_at, mb.name AS moved_by_name, p.currency
FROM leads l
JOIN contacts c ON c.id = l.contact_id AND c.org_id = l.org_id
JOIN pipelines p ON p.id = l.pipeline_id AND p.org_id = l.org_id
LEFT JOIN users o ON o.id = l.owner_id
LEFT JOIN users mb ON mb.id = l.moved_by

-- name: lead
-- include: lead-read
WHERE l.org_id = $1 AND l.id = $2;

-- name: lead-filtered
-- One card as a filtered board shows it: not found when the filters hide it.
-- include: lead-read
WHERE l.org_id = $1 AND l.id = $2
    AND ($3::bigint = 0 OR ($3 = -1 AND l.owner_id IS NULL) OR l.owner_id = $3)
    AND ($4::text = '' OR l.search LIKE (SELECT fold($4)) OR c.search LIKE (SELECT fold($4)))
    AND ($5::bigint < 0 OR l.value_cents >= $5)
    AND ($6::bigint < 0 OR l.value_cents <= $6);

-- name: leads-page
-- The API's list of leads, newest first: each filter applies when it is not 0 ($5 = -1: the
-- leads nobody owns); $6 is the id the previous page ended on (0: the first page).
-- include: lead-read
WHERE l.org_id = $1
    AND ($2::bigint = 0 OR l.pipeline_id = $2)
    AND ($3::bigint = 0 OR l.stage_id = $3)
    AND ($4::bigint = 0 OR l.contact_id = $4)
    AND ($5::bigint = 0 OR ($5 = -1 AND l.owner_id IS NULL) OR l.owner_id = $5)
    AND ($6::bigint = 0 OR l.id < $6)
ORDER BY l.id DESC
LIMIT $7;

-- name: lead-lock
SELECT id, org_id, pipeline_id, stage_id, contact_id, owner_id, created_by, rank
FROM leads WHERE org_id = $1 AND id = $2 FOR UPDATE;

-- name: lead-rank
-- A neighbour's key, when it is (still) in the stage.
SELECT rank FROM leads WHERE org_id = $1 AND stage_id = $2 AND id = $3;

-- name: lead-rank-next
-- The first key after $3 in the stage, other than lead $4's own.
SELECT id, rank FROM leads
WHERE org_id = $1 AND stage_id = $2 AND rank > $3 AND id <> $4
ORDER BY rank LIMIT 1;

-- name: lead-rank-prev
-- The last key before $3 in the stage, other than lead $4's own.
SELECT id, rank FROM leads
WHERE org_id = $1 AND stage_id = $2 AND rank < $3 AND id <> $4
ORDER BY rank DESC LIMIT 1;

-- name: lead-rank-first
SELECT id, rank FROM leads
WHERE org_id = $1 AND stage_id = $2 AND id <> $3
ORDER BY rank LIMIT 1;

-- name: lead-place
-- Writes a lead's stage and key: the only row a move changes. A change of stage stamps
-- the card's last move.
UPDATE leads SET stage_id = $3, rank = $4, updated_at = now(),
    moved_at = CASE WHEN stage_id <> $3 THEN now() ELSE moved_at END,
    moved_by = CASE WHEN stage_id <> $3 THEN $5 ELSE moved_by END
WHERE org_id = $1 AND id = $2;

-- name: lead-update
UPDATE leads SET title = $3, value_cents = $4, owner_id = $5, source = $6, notes = $7, updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: lead-delete
DELETE FROM leads WHERE org_id = $1 AND id = $2;

-- name: lead-move-insert
INSERT INTO lead_moves (org_id, lead_id, from_stage_id, to_stage_id, from_name, to_name, actor_id)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: lead-moves
-- With the AI decision behind a move, if any (00018): the AI's own move, or its suggestion
-- that a member accepted.
SELECT m.id, m.lead_id, m.from_stage_id, m.to_stage_id, m.from_name, m.to_name, u.name AS actor_name, m.created_at,
    d.kind AS ai_kind, d.confidence::float8 AS ai_confidence, d.reason AS ai_reason
FROM lead_moves m LEFT JOIN users u ON u.id = m.actor_id
LEFT JOIN lead_ai_decisions d ON d.lead_move_id = m.id AND d.org_id = m.org_id
WHERE m.org_id = $1 AND m.lead_id = $2
ORDER BY m.id DESC LIMIT $3;

-- name: board-cards
-- The first $7 cards of each stage of pipeline $2, stage by stage.
SELECT x.* FROM stages s
CROSS JOIN LATERAL (
    SELECT l.id, l.org_id, l.pipeline_id, l.stage_id, l.contact_id, c.name AS contact_name, c.phone AS contact_phone,
        l.title, l.value_cents, l.owner_id, o.name AS owner_name, l.source, '' AS notes, l.rank,
        l.created_by, l.created_at, l.updated_at, l.moved_at, mb.name AS moved_by_name
    FROM leads l
    JOIN contacts c ON c.id = l.contact_id AND c.org_id = l.org_id
    LEFT JOIN users o ON o.id = l.owner_id
    LEFT JOIN users mb ON mb.id = l.moved_by
    WHERE l.org_id = s.org_id AND l.stage_id = s.id
        AND ($3::bigint = 0 OR ($3 = -1 AND l.owner_id IS NULL) OR l.owner_id = $3)
        AND ($4::text = '' OR l.search LIKE (SELECT fold($4)) OR c.search LIKE (SELECT fold($4)))
        AND ($5::bigint < 0 OR l.value_cents >= $5)
        AND ($6::bigint < 0 OR l.value_cents <= $6)
    ORDER BY l.rank, l.id
    LIMIT $7
) x
WHERE s.org_id = $1 AND s.pipeline_id = $2
ORDER BY s.position, s.id, x.rank, x.id;

-- name: stage-cards
-- The next $8 cards of stage $2 after key $7 ('' from the top).
SELECT l.id, l.org_id, l.pipeline_id, l.stage_id, l.contact_id, c.name AS contact_name, c.phone AS contact_phone,
    l.title, l.value_cents, l.owner_id, o.name AS owner_name, l.source, '' AS notes, l.rank,
    l.created_by, l.created_at, l.updated_at, l.moved_at, mb.name AS moved_by_name
FROM leads l
JOIN contacts c ON c.id = l.contact_id AND c.org_id = l.org_id
LEFT JOIN users o ON o.id = l.owner_id
LEFT JOIN users mb ON mb.id = l.moved_by
WHERE l.org_id = $1 AND l.stage_id = $2 AND l.rank > $7
    AND ($3::bigint = 0 OR ($3 = -1 AND l.owner_id IS NULL) OR l.owner_id = $3)
    AND ($4::text = '' OR l.search LIKE (SELECT fold($4)) OR c.search LIKE (SELECT fold($4)))
    AND ($5::bigint < 0 OR l.value_cents >= $5)
    AND ($6::bigint < 0 OR l.value_cents <= $6)
ORDER BY l.rank, l.id
LIMIT $8;

-- name: board-totals
-- Count and value of the (filtered) leads of each stage of pipeline $2. The contact's name
-- is looked up only when searching.
SELECT l.stage_id, count(*) AS count, coalesce(sum(l.value_cents), 0)::bigint AS sum_cents
FROM leads l
WHERE l.org_id = $1 AND l.pipeline_id = $2
    AND ($3::bigint = 0 OR ($3 = -1 AND l.owner_id IS NULL) OR l.owner_id = $3)
    AND ($4::text = '' OR l.search LIKE (SELECT fold($4))
        OR EXISTS (SELECT 1 FROM contacts c WHERE c.org_id = l.org_id AND c.id = l.contact_id AND c.search LIKE (SELECT fold($4))))
    AND ($5::bigint < 0 OR l.value_cents >= $5)
    AND ($6::bigint < 0 OR l.value_cents <= $6)
GROUP BY l.stage_id;

-- name: board-contact-upsert
-- A lead's contact by phone: the existing one keeps its name; without a phone, a new one.
INSERT INTO contacts (org_id, name, phone) VALUES ($1, $2, $3)
ON CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO UPDATE SET name = contacts.name
RETURNING id;

-- name: board-contact
SELECT id, name, phone FROM contacts WHERE org_id = $1 AND id = $2;

-- name: board-contacts-search
-- $2 is a LIKE pattern over the name, phone and email, compared folded (accents and case
-- do not matter).
SELECT id, name, phone FROM contacts
WHERE org_id = $1 AND search LIKE fold($2)
ORDER BY lower(name), id
LIMIT $3;

-- name: board-contact-event
INSERT INTO contact_events (org_id, contact_id, kind, actor_id, data) VALUES ($1, $2, $3, $4, $5);
