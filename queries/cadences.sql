-- Cadences (migrations/00030_cadences.sql). Sections: definitions (cadences and their
-- versions); enrolments and the engine append theirs below.

-- ---- definitions ----

-- name: cadence
SELECT id, org_id, name, status, current_version, enrol_segment_id, enrol_stage_id, exit_on_reply,
       exit_on_stage_change, goal_stage_id, created_by, created_at, updated_at
FROM cadences WHERE org_id = $1 AND id = $2;

-- name: cadence-version-steps
-- The steps of one version of a cadence.
SELECT v.steps FROM cadence_versions v WHERE v.org_id = $1 AND v.cadence_id = $2 AND v.version = $3;

-- name: cadences
-- The org's cadences, newest first, with how many people are in each (active or paused),
-- finished (completed) and left early (exited), over all versions.
SELECT c.id, c.org_id, c.name, c.status, c.current_version, c.enrol_segment_id, c.enrol_stage_id, c.exit_on_reply,
       c.exit_on_stage_change, c.goal_stage_id, c.created_by, c.created_at, c.updated_at,
       coalesce(n.active, 0) AS active, coalesce(n.completed, 0) AS completed, coalesce(n.exited, 0) AS exited
FROM cadences c
LEFT JOIN (
    SELECT e.cadence_id,
           count(*) FILTER (WHERE e.status IN ('active', 'paused')) AS active,
           count(*) FILTER (WHERE e.status = 'completed') AS completed,
           count(*) FILTER (WHERE e.status = 'exited') AS exited
    FROM cadence_enrolments e WHERE e.org_id = $1 GROUP BY e.cadence_id
) n ON n.cadence_id = c.id
WHERE c.org_id = $1 AND ($2::bigint = 0 OR c.id < $2)
ORDER BY c.id DESC LIMIT $3;

-- name: cadence-create
INSERT INTO cadences (org_id, name, status, enrol_segment_id, enrol_stage_id, exit_on_reply, exit_on_stage_change,
                      goal_stage_id, created_by)
VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8)
RETURNING id;

-- name: cadence-version-create
INSERT INTO cadence_versions (org_id, cadence_id, version, steps, created_by) VALUES ($1, $2, $3, $4, $5);

-- name: cadence-lock
-- The cadence's row, locked until the edit commits: two edits (or an edit and an
-- enrolment that reads the current version) take turns.
SELECT id, org_id, name, status, current_version, enrol_segment_id, enrol_stage_id, exit_on_reply,
       exit_on_stage_change, goal_stage_id, created_by, created_at, updated_at
FROM cadences WHERE org_id = $1 AND id = $2 FOR UPDATE;

-- name: cadence-version-walked
-- Whether anybody was ever enrolled on a version of the cadence (whatever became of it).
SELECT EXISTS (SELECT 1 FROM cadence_enrolments e WHERE e.org_id = $1 AND e.cadence_id = $2 AND e.version = $3);

-- name: cadence-version-rewrite
UPDATE cadence_versions SET steps = $4, created_by = $5, created_at = now()
WHERE org_id = $1 AND cadence_id = $2 AND version = $3;

-- name: cadence-update
UPDATE cadences SET name = $3, current_version = $4, enrol_segment_id = $5, enrol_stage_id = $6, exit_on_reply = $7,
       exit_on_stage_change = $8, goal_stage_id = $9, updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: cadence-set-status
-- Moves a cadence to a status from one of the statuses given; no row when it was in none.
UPDATE cadences SET status = $3, updated_at = now()
WHERE org_id = $1 AND id = $2 AND status = ANY($4::text[])
RETURNING id;

-- name: cadence-refs-missing
-- Of the ids a cadence names, which are not the org's: stages, tags, members, voice
-- numbers, segments. Each comes back as "kind:id"; none when all are the org's.
SELECT 'stage:' || x FROM unnest($2::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM stages s WHERE s.org_id = $1 AND s.id = x)
UNION ALL
SELECT 'tag:' || x FROM unnest($3::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.org_id = $1 AND t.id = x)
UNION ALL
SELECT 'user:' || x FROM unnest($4::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = $1 AND m.user_id = x)
UNION ALL
SELECT 'number:' || x FROM unnest($5::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM voice_numbers v WHERE v.org_id = $1 AND v.id = x)
UNION ALL
SELECT 'segment:' || x FROM unnest($6::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM segments g WHERE g.org_id = $1 AND g.id = x);
