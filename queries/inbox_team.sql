-- The inbox's team features: settings, round-robin, labels, presence, the contact's leads.

-- name: inbox-settings
SELECT restrict_agents, round_robin, business_hours, response_target FROM org_inbox_settings WHERE org_id = $1;

-- name: inbox-settings-save
INSERT INTO org_inbox_settings (org_id, restrict_agents, round_robin, business_hours, response_target) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (org_id) DO UPDATE SET restrict_agents = $2, round_robin = $3, business_hours = $4, response_target = $5, updated_at = now();

-- name: rotation-members
-- Every member with whether they take part in round-robin: their own choice, or by role.
SELECT m.user_id, u.name AS user_name, m.role, coalesce(m.in_rotation, m.role = 'agent') AS in_rotation, m.last_assigned_at
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 ORDER BY lower(u.name), m.user_id;

-- name: rotation-set
-- $2: the user ids in the rotation; everyone else of the org is out.
UPDATE memberships SET in_rotation = (user_id = ANY($2::bigint[])) WHERE org_id = $1;

-- name: round-robin-lock
-- Round-robin's turn for a conversation that has nobody: it holds the org's settings row,
-- so concurrent inbound messages of the org take turns one after the other; no row when
-- round-robin is off or the conversation needs no one.
SELECT s.org_id FROM org_inbox_settings s
WHERE s.org_id = $1 AND s.round_robin
  AND EXISTS (SELECT 1 FROM conversations v WHERE v.org_id = $1 AND v.id = $2 AND v.assignee_id IS NULL AND v.status = 'open')
FOR UPDATE OF s;

-- name: round-robin-next
-- The member of the rotation given a conversation longest ago (never first), marked now.
-- Run after round-robin-lock in the same transaction: it is a new statement, so it sees the
-- turn the previous holder of the lock took.
UPDATE memberships SET last_assigned_at = clock_timestamp()
WHERE org_id = $1 AND user_id = (
    SELECT user_id FROM memberships
    WHERE org_id = $1 AND coalesce(in_rotation, role = 'agent')
    ORDER BY last_assigned_at NULLS FIRST, user_id LIMIT 1)
RETURNING user_id;

-- name: conversation-assign-if-free
UPDATE conversations SET assignee_id = $3 WHERE org_id = $1 AND id = $2 AND assignee_id IS NULL;

-- name: conversation-label-add
-- At most $4 labels: checked under the row's lock, so two agents adding at once cannot pass it.
-- A label new to the org joins its list.
WITH added AS (
    UPDATE conversations SET labels = labels || $3::text
    WHERE org_id = $1 AND id = $2 AND NOT labels @> ARRAY[$3::text] AND cardinality(labels) < $4
    RETURNING id
), listed AS (
    INSERT INTO org_labels (org_id, label) SELECT $1, $3 FROM added ON CONFLICT DO NOTHING
)
SELECT count(*) FROM added;

-- name: conversation-label-remove
-- The org's list forgets a label no other conversation has (found through conversations_labels).
WITH removed AS (
    UPDATE conversations SET labels = array_remove(labels, $3::text)
    WHERE org_id = $1 AND id = $2 AND labels @> ARRAY[$3::text]
    RETURNING id
), unlisted AS (
    DELETE FROM org_labels WHERE org_id = $1 AND label = $3 AND EXISTS (SELECT 1 FROM removed)
      AND NOT EXISTS (SELECT 1 FROM conversations WHERE org_id = $1 AND labels @> ARRAY[$3::text] AND id <> $2)
)
SELECT count(*) FROM removed;

-- name: labels-in-use
-- The org's labels, for the filter and the suggestions.
SELECT label FROM org_labels WHERE org_id = $1 ORDER BY label LIMIT 200;

-- name: contact-leads
-- A contact's leads with their pipeline and stage, for the inbox's contact panel.
SELECT l.id, l.title, l.pipeline_id, p.name AS pipeline_name, s.name AS stage_name, s.color AS stage_color
FROM leads l
JOIN pipelines p ON p.id = l.pipeline_id AND p.org_id = l.org_id
JOIN stages s ON s.id = l.stage_id AND s.org_id = l.org_id
WHERE l.org_id = $1 AND l.contact_id = $2
ORDER BY l.updated_at DESC, l.id DESC LIMIT 10;

-- name: labels-delete-unused
-- cross-org: the hourly cleanup drops labels no conversation has any more (their last one
-- went with a deleted contact or channel); each check is one probe of conversations_labels.
DELETE FROM org_labels l
WHERE NOT EXISTS (SELECT 1 FROM conversations v WHERE v.org_id = l.org_id AND v.labels @> ARRAY[l.label]);
