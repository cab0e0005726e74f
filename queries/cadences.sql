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
