-- Cadences' enrolments and the engine (migrations/00030_cadences.sql, app/campaign/cadence):
-- who is in a cadence, where, and each step's line in the ledger (cadence_steps).

-- name: cadence-enrol
-- Enrols the org's contacts among $7 at the first step $4 of version $3, with their latest
-- lead; those already in the cadence are left as they are (once at a time). With $8, only
-- contacts never enrolled in the cadence join (a segment's or a stage's new arrivals).
INSERT INTO cadence_enrolments (org_id, cadence_id, version, contact_id, lead_id, step_id, due_at, source, enrolled_by)
SELECT c.org_id, $2, $3, c.id,
       (SELECT l.id FROM leads l WHERE l.org_id = $1 AND l.contact_id = c.id ORDER BY l.id DESC LIMIT 1),
       $4, now(), $5, $6
FROM contacts c WHERE c.org_id = $1 AND c.id = ANY($7::bigint[])
  AND (NOT $8::boolean OR NOT EXISTS (SELECT 1 FROM cadence_enrolments x WHERE x.org_id = $1 AND x.cadence_id = $2 AND x.contact_id = c.id))
ORDER BY c.id
ON CONFLICT (cadence_id, contact_id) WHERE status IN ('active', 'paused') DO NOTHING
RETURNING id;

-- name: cadence-contacts-count
-- How many of the ids are contacts of the org.
SELECT count(*) FROM contacts c WHERE c.org_id = $1 AND c.id = ANY($2::bigint[]);

-- name: cadence-enrolment-lock
-- One enrolment, locked for its step, with its cadence's status.
SELECT e.id, e.org_id, e.cadence_id, e.version, e.contact_id, e.lead_id, e.status, e.step_id, e.step_at, e.due_at,
       e.source, e.enrolled_by, e.exit_reason, e.created_at, e.updated_at, e.finished_at,
       cd.name AS cadence_name, cd.status AS cadence_status,
       (SELECT c.opted_out <> '{}' FROM contacts c WHERE c.org_id = $1 AND c.id = e.contact_id) AS opted_out
FROM cadence_enrolments e JOIN cadences cd ON cd.org_id = $1 AND cd.id = e.cadence_id
WHERE e.org_id = $1 AND e.id = $2
FOR UPDATE OF e;

-- name: cadence-enrolment
SELECT e.id, e.org_id, e.cadence_id, e.version, e.contact_id, e.lead_id, e.status, e.step_id, e.step_at, e.due_at,
       e.source, e.enrolled_by, e.exit_reason, e.created_at, e.updated_at, e.finished_at,
       c.name AS contact_name, c.phone AS contact_phone, cd.name AS cadence_name
FROM cadence_enrolments e
JOIN contacts c ON c.org_id = $1 AND c.id = e.contact_id
JOIN cadences cd ON cd.org_id = $1 AND cd.id = e.cadence_id
WHERE e.org_id = $1 AND e.id = $2;

-- name: cadence-enrolment-steps
-- An enrolment's timeline, in the order its steps were reached.
SELECT s.id, s.step_id, s.kind, s.status, s.outcome, s.message_id, s.call_id, s.detail, s.started_at, s.finished_at
FROM cadence_steps s WHERE s.org_id = $1 AND s.enrolment_id = $2 ORDER BY s.id;

-- name: cadence-enrolments
-- A cadence's enrolments, newest first, of one status ('' for all), before an id (0: from the top).
SELECT e.id, e.org_id, e.cadence_id, e.version, e.contact_id, e.lead_id, e.status, e.step_id, e.step_at, e.due_at,
       e.source, e.enrolled_by, e.exit_reason, e.created_at, e.updated_at, e.finished_at,
       c.name AS contact_name, c.phone AS contact_phone, '' AS cadence_name
FROM cadence_enrolments e JOIN contacts c ON c.org_id = $1 AND c.id = e.contact_id
WHERE e.org_id = $1 AND e.cadence_id = $2 AND ($3 = '' OR e.status = $3) AND ($4 = 0 OR e.id < $4)
ORDER BY e.id DESC LIMIT $5;

-- name: cadence-enrolments-of-contact
-- A contact's enrolments, running ones first, with their cadences' names.
SELECT e.id, e.org_id, e.cadence_id, e.version, e.contact_id, e.lead_id, e.status, e.step_id, e.step_at, e.due_at,
       e.source, e.enrolled_by, e.exit_reason, e.created_at, e.updated_at, e.finished_at,
       '' AS contact_name, NULL::text AS contact_phone, cd.name AS cadence_name
FROM cadence_enrolments e JOIN cadences cd ON cd.org_id = $1 AND cd.id = e.cadence_id
WHERE e.org_id = $1 AND e.contact_id = $2
ORDER BY (e.status IN ('active', 'paused')) DESC, e.id DESC LIMIT 20;

-- name: cadence-running-of-contact
-- A contact's running enrolments with what their cadences exit on.
SELECT e.id, e.cadence_id, e.status, e.step_id, e.lead_id, cd.exit_on_reply, cd.exit_on_stage_change, cd.goal_stage_id
FROM cadence_enrolments e JOIN cadences cd ON cd.org_id = $1 AND cd.id = e.cadence_id
WHERE e.org_id = $1 AND e.contact_id = $2 AND e.status IN ('active', 'paused');

-- name: cadence-step-claim
-- Claims an enrolment's step in the ledger (or records it done at once); nothing comes back
-- when it was claimed before.
INSERT INTO cadence_steps (org_id, enrolment_id, step_id, kind, status, detail, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $5 IN ('done', 'skipped', 'failed') THEN now() END)
ON CONFLICT (enrolment_id, step_id) DO NOTHING
RETURNING id;

-- name: cadence-step
SELECT s.id, s.step_id, s.kind, s.status, s.outcome, s.message_id, s.call_id, s.detail, s.started_at, s.finished_at
FROM cadence_steps s WHERE s.org_id = $1 AND s.enrolment_id = $2 AND s.step_id = $3;

-- name: cadence-step-set
-- Moves a step's line: its status, outcome, detail, message and call (kept when NULL).
UPDATE cadence_steps SET status = $4, outcome = $5, detail = $6,
    message_id = COALESCE($7, message_id), call_id = COALESCE($8, call_id),
    finished_at = CASE WHEN $4 IN ('done', 'skipped', 'failed') THEN now() END
WHERE org_id = $1 AND enrolment_id = $2 AND step_id = $3;

-- name: cadence-step-drop
-- Gives a claimed step back (a call that could not be placed yet: it is tried again).
DELETE FROM cadence_steps WHERE org_id = $1 AND enrolment_id = $2 AND step_id = $3 AND status = 'running';

-- name: cadence-enrolment-move
-- Moves an enrolment to a step ('' ends it: completed) due at a time.
UPDATE cadence_enrolments SET step_id = $3, step_at = now(), due_at = $4, updated_at = now(),
    status = CASE WHEN $3 = '' THEN 'completed' ELSE status END,
    finished_at = CASE WHEN $3 = '' THEN now() END
WHERE org_id = $1 AND id = $2 AND status IN ('active', 'paused');

-- name: cadence-enrolment-due
UPDATE cadence_enrolments SET due_at = $3, updated_at = now() WHERE org_id = $1 AND id = $2;

-- name: cadence-enrolment-exit
-- Ends a running enrolment early with a reason; nothing when it had ended.
UPDATE cadence_enrolments SET status = 'exited', exit_reason = $3, finished_at = now(), updated_at = now(), due_at = NULL
WHERE org_id = $1 AND id = $2 AND status IN ('active', 'paused')
RETURNING cadence_id, contact_id, step_id;

-- name: cadence-enrolments-exit-all
-- Ends every running enrolment of a cadence (it was archived) with a reason.
UPDATE cadence_enrolments SET status = 'exited', exit_reason = $3, finished_at = now(), updated_at = now(), due_at = NULL
WHERE org_id = $1 AND cadence_id = $2 AND status IN ('active', 'paused')
RETURNING id, contact_id;

-- name: cadence-enrolment-set-status
-- Pauses ($3 'paused' from 'active') or resumes ($3 'active' from 'paused') an enrolment.
UPDATE cadence_enrolments SET status = $3, updated_at = now()
WHERE org_id = $1 AND id = $2 AND status = $4
RETURNING step_id;

-- name: cadence-steps-message-outcome
-- What a status webhook said of cadence messages: outcomes only move forward (sent,
-- delivered, read, replied); a failure counts only before delivery.
UPDATE cadence_steps s SET outcome = $3
WHERE s.org_id = $1 AND s.message_id = ANY($2::bigint[])
  AND (CASE s.outcome WHEN '' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 9 END)
    < (CASE $3 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 2 END)
RETURNING s.enrolment_id;

-- name: cadence-steps-replied
-- A contact wrote back: its running enrolments' sends made before then were replied to.
UPDATE cadence_steps s SET outcome = 'replied'
FROM cadence_enrolments e
WHERE e.org_id = $1 AND e.contact_id = $2 AND e.status IN ('active', 'paused')
  AND s.org_id = $1 AND s.enrolment_id = e.id AND s.kind IN ('whatsapp', 'sms') AND s.message_id IS NOT NULL
  AND s.outcome NOT IN ('replied', 'failed', 'no_whatsapp') AND s.started_at <= $3
RETURNING s.enrolment_id;

-- name: cadence-steps-call-outcome
-- What came of a cadence's call, once it ended.
UPDATE cadence_steps s SET outcome = $3
WHERE s.org_id = $1 AND s.call_id = $2 AND s.outcome IN ('', 'sent')
RETURNING s.enrolment_id;

-- name: cadence-awaits-waiting
-- Of these enrolments, those waiting at an await: they are woken.
SELECT e.id, e.step_id FROM cadence_enrolments e
JOIN cadence_steps s ON s.org_id = $1 AND s.enrolment_id = e.id AND s.step_id = e.step_id
WHERE e.org_id = $1 AND e.id = ANY($2::bigint[]) AND e.status = 'active' AND s.kind = 'await' AND s.status = 'waiting';

-- name: cadence-call-since
-- The latest call to a contact placed since a time (a call step claimed before a crash).
SELECT c.id FROM calls c WHERE c.org_id = $1 AND c.contact_id = $2 AND c.created_at >= $3 ORDER BY c.id DESC LIMIT 1;

-- name: cadences-enrol-stage
-- The org's active cadences that enrol the leads entering a stage.
SELECT cd.id FROM cadences cd WHERE cd.org_id = $1 AND cd.enrol_stage_id = $2 AND cd.status = 'active';

-- name: cadences-enrol-segment
-- cross-org: the periodic job enrols new segment matches of every org's active cadences.
SELECT cd.id, cd.org_id FROM cadences cd WHERE cd.enrol_segment_id IS NOT NULL AND cd.status = 'active' ORDER BY cd.id;

-- name: cadence-funnel-here
-- A cadence's enrolments by status and step.
SELECT e.status, e.step_id, count(*) AS n FROM cadence_enrolments e
WHERE e.org_id = $1 AND e.cadence_id = $2 GROUP BY e.status, e.step_id;

-- name: cadence-funnel-steps
-- What came of each step of a cadence, over its enrolments.
SELECT s.step_id, s.status, s.outcome, count(*) AS n
FROM cadence_steps s JOIN cadence_enrolments e ON e.org_id = $1 AND e.id = s.enrolment_id
WHERE s.org_id = $1 AND e.cadence_id = $2
GROUP BY s.step_id, s.status, s.outcome;

-- name: cadences-active
-- The org's active cadences, by name, for the enrol menus.
SELECT id, org_id, name, status, current_version, enrol_segment_id, enrol_stage_id, exit_on_reply,
       exit_on_stage_change, goal_stage_id, created_by, created_at, updated_at
FROM cadences WHERE org_id = $1 AND status = 'active' ORDER BY name, id LIMIT 200;

-- name: cadence-stalled
-- cross-org: the sweep. Running enrolments of active cadences whose step was due before $1
-- and that have no live job for that step (of their own or a batch's): none waiting, and
-- none running since after $2 (a job running longer died with its process). Their steps
-- are woken; a step runs once anyway.
SELECT e.org_id, e.id, e.step_id FROM cadence_enrolments e
JOIN cadences cd ON cd.id = e.cadence_id AND cd.status = 'active'
WHERE e.status = 'active' AND e.step_id <> '' AND COALESCE(e.due_at, e.step_at) < $1
  AND NOT EXISTS (
    SELECT 1 FROM river_job j
    WHERE (j.args @> jsonb_build_object('enrolment_id', e.id, 'step_id', e.step_id)
           OR j.args @> jsonb_build_object('enrolment_ids', jsonb_build_array(e.id), 'step_id', e.step_id))
      AND j.kind = 'cadence.step'
      AND (j.state IN ('available', 'scheduled', 'retryable', 'pending') OR (j.state = 'running' AND j.attempted_at > $2)))
ORDER BY COALESCE(e.due_at, e.step_at)
LIMIT $3;

-- name: cadence-enrolments-lock
-- Locks enrolments (in id order) so a hook waits for a step running on them to commit.
SELECT e.id FROM cadence_enrolments e WHERE e.org_id = $1 AND e.id = ANY($2::bigint[]) ORDER BY e.id FOR UPDATE;

-- name: cadence-enrolments-of-messages
-- The enrolments whose steps sent these messages (locked before their lines move).
SELECT DISTINCT s.enrolment_id FROM cadence_steps s WHERE s.org_id = $1 AND s.message_id = ANY($2::bigint[]);

-- name: cadence-enrolments-of-call
SELECT DISTINCT s.enrolment_id FROM cadence_steps s WHERE s.org_id = $1 AND s.call_id = $2;

-- ---- batches of steps (app/campaign/cadence/batch.go) ----

-- name: cadence-enrolments-lock-at
-- Enrolments $2 of a batch, locked in id order, each with its cadence's status and
-- whether its contact opted out; the caller keeps those still active at the batch's step.
-- No condition on the status here: one would let the planner, its statistics stale after a
-- bulk enrolment, read every running enrolment through a partial index on the status
-- (130 ms a batch at 100,000 enrolments) instead of the ids' primary-key lookups.
SELECT e.id, e.org_id, e.cadence_id, e.version, e.contact_id, e.lead_id, e.status, e.step_id, e.step_at, e.due_at,
       e.source, e.enrolled_by, e.exit_reason, e.created_at, e.updated_at, e.finished_at,
       cd.name AS cadence_name, cd.status AS cadence_status,
       (SELECT c.opted_out <> '{}' FROM contacts c WHERE c.org_id = $1 AND c.id = e.contact_id) AS opted_out
FROM cadence_enrolments e JOIN cadences cd ON cd.org_id = $1 AND cd.id = e.cadence_id
WHERE e.org_id = $1 AND e.id = ANY($2::bigint[])
ORDER BY e.id
FOR UPDATE OF e;

-- name: cadence-steps-claim-many
-- Claims step $3 of enrolments $2 in the ledger in one statement (or records it done at
-- once); it returns the enrolments claimed, not those whose line was there before.
INSERT INTO cadence_steps (org_id, enrolment_id, step_id, kind, status, detail, finished_at)
SELECT $1, x, $3, $4, $5, $6, CASE WHEN $5 IN ('done', 'skipped', 'failed') THEN now() END
FROM unnest($2::bigint[]) x ORDER BY x
ON CONFLICT (enrolment_id, step_id) DO NOTHING
RETURNING enrolment_id;

-- name: cadence-enrolments-move-many
-- Moves running enrolments to step $3 ('' ends them: completed), due now. "Not ended"
-- rather than "IN ('active', 'paused')": see cadence-enrolments-lock-at.
UPDATE cadence_enrolments SET step_id = $3, step_at = now(), due_at = NULL, updated_at = now(),
    status = CASE WHEN $3 = '' THEN 'completed' ELSE status END,
    finished_at = CASE WHEN $3 = '' THEN now() END
WHERE org_id = $1 AND id = ANY($2::bigint[]) AND status <> 'completed' AND status <> 'exited';

-- name: cadence-enrolments-due-many
-- Records when the step of enrolments is due (a batch's waits).
UPDATE cadence_enrolments SET due_at = $3, updated_at = now() WHERE org_id = $1 AND id = ANY($2::bigint[]);

-- name: cadence-steps-finish-waiting
-- Ends the waiting line of step $3 of enrolments $2 (their waits are over) in one
-- statement; it returns the enrolments whose line it ended.
UPDATE cadence_steps SET status = 'done', finished_at = now()
WHERE org_id = $1 AND enrolment_id = ANY($2::bigint[]) AND step_id = $3 AND status = 'waiting'
RETURNING enrolment_id;
