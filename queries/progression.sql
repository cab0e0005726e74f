-- Lead progression (migration 00018): pipelines' AI settings, the AI's moves and
-- suggestions, and what the classification of a lead reads.

-- name: pipeline-ai
-- A pipeline's settings; a pipeline never saved has the defaults (off, 0.80).
SELECT p.id AS pipeline_id, coalesce(a.enabled, false) AS enabled,
    coalesce(a.threshold, 0.80)::float8 AS threshold, a.updated_at
FROM pipelines p
LEFT JOIN pipeline_ai a ON a.pipeline_id = p.id AND a.org_id = p.org_id
WHERE p.org_id = $1 AND p.id = $2;

-- name: pipeline-ai-put
-- Nothing is written (no row) when the pipeline is not the org's.
INSERT INTO pipeline_ai (pipeline_id, org_id, enabled, threshold, updated_by)
SELECT p.id, p.org_id, $3, $4, $5 FROM pipelines p WHERE p.org_id = $1 AND p.id = $2
ON CONFLICT (pipeline_id) DO UPDATE SET enabled = excluded.enabled, threshold = excluded.threshold,
    updated_by = excluded.updated_by, updated_at = now()
RETURNING pipeline_id, enabled, threshold::float8 AS threshold, updated_at;

-- name: ai-progression-leads-of-contact
-- The leads of a contact that the AI follows: in a pipeline with progression on, in an
-- open stage (a won or lost lead is closed).
SELECT l.id FROM leads l
JOIN pipeline_ai a ON a.pipeline_id = l.pipeline_id AND a.org_id = l.org_id AND a.enabled
JOIN stages s ON s.id = l.stage_id AND s.org_id = l.org_id AND s.outcome = 'open'
WHERE l.org_id = $1 AND l.contact_id = $2
ORDER BY l.id;

-- name: ai-progression-leads-of-messages
-- The same, for the contacts that members' messages $2 went to.
SELECT DISTINCT l.id FROM messages m
JOIN conversations c ON c.id = m.conversation_id AND c.org_id = m.org_id
JOIN leads l ON l.contact_id = c.contact_id AND l.org_id = m.org_id
JOIN pipeline_ai a ON a.pipeline_id = l.pipeline_id AND a.org_id = l.org_id AND a.enabled
JOIN stages s ON s.id = l.stage_id AND s.org_id = l.org_id AND s.outcome = 'open'
WHERE m.org_id = $1 AND m.id = ANY($2::bigint[]) AND m.direction = 'out' AND m.sender_id IS NOT NULL
    -- Checked once first: an org without progression pays one index probe per batch of statuses.
    AND EXISTS (SELECT 1 FROM pipeline_ai e WHERE e.org_id = $1 AND e.enabled)
ORDER BY l.id;

-- name: ai-progression-lead
SELECT l.id AS lead_id, l.org_id, l.pipeline_id, l.stage_id, l.contact_id, l.title, c.name AS contact_name
FROM leads l JOIN contacts c ON c.id = l.contact_id AND c.org_id = l.org_id
WHERE l.org_id = $1 AND l.id = $2;

-- name: ai-progression-messages
-- The last $3 messages (customer's and the team's, not internal notes) of all of a
-- contact's conversations, oldest first.
SELECT x.id, x.direction, x.kind, x.body, x.created_at FROM (
    SELECT m.id, m.direction, m.kind, m.body, m.created_at
    FROM conversations c
    JOIN messages m ON m.org_id = c.org_id AND m.conversation_id = c.id
    WHERE c.org_id = $1 AND c.contact_id = $2 AND m.direction IN ('in', 'out')
    ORDER BY m.id DESC
    LIMIT $3
) x ORDER BY x.id;

-- name: ai-progression-latest-message
SELECT coalesce(max(m.id), 0) FROM conversations c
JOIN messages m ON m.org_id = c.org_id AND m.conversation_id = c.id
WHERE c.org_id = $1 AND c.contact_id = $2 AND m.direction IN ('in', 'out');

-- name: ai-progression-calls
-- The last $3 calls of a contact that ended (their outcome known), oldest first.
SELECT x.id, x.direction, x.status, x.disconnection_reason, x.in_voicemail, x.duration_ms, x.summary, x.transcript,
       x.created_at, x.started_at
FROM (
    SELECT c.id, c.direction, c.status, c.disconnection_reason, c.in_voicemail, c.duration_ms, c.summary, c.transcript,
           c.created_at, c.started_at
    FROM calls c
    WHERE c.org_id = $1 AND c.contact_id = $2 AND c.event_rank >= 2
    ORDER BY c.id DESC
    LIMIT $3
) x ORDER BY x.id;

-- name: ai-progression-leads-of-calls
-- The leads the AI follows that calls are activity on: each call's own lead, and its
-- contact's. Arrays, one element per call: $1 org, $2 contact, $3 lead (0 for none).
SELECT DISTINCT l.org_id, l.id FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS k(org_id, contact_id, lead_id)
JOIN leads l ON l.org_id = k.org_id AND (l.contact_id = k.contact_id OR l.id = k.lead_id)
JOIN pipeline_ai a ON a.pipeline_id = l.pipeline_id AND a.org_id = l.org_id AND a.enabled
JOIN stages s ON s.id = l.stage_id AND s.org_id = l.org_id AND s.outcome = 'open'
ORDER BY l.org_id, l.id;

-- name: ai-progression-check
SELECT lead_id, message_id, call_id, stage_name, confidence::float8 AS confidence, reason, checked_at
FROM lead_ai_checks WHERE org_id = $1 AND lead_id = $2;

-- name: ai-progression-check-put
INSERT INTO lead_ai_checks (org_id, lead_id, message_id, stage_name, confidence, reason, call_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (lead_id) DO UPDATE SET message_id = excluded.message_id, call_id = excluded.call_id, stage_name = excluded.stage_name,
    confidence = excluded.confidence, reason = excluded.reason, checked_at = now();

-- name: ai-progression-latest-move
-- The id of a lead's latest change of stage (0: it never moved).
SELECT coalesce(max(id), 0) FROM lead_moves WHERE org_id = $1 AND lead_id = $2;

-- name: ai-decision-insert
INSERT INTO lead_ai_decisions (org_id, lead_id, pipeline_id, kind, status, from_stage_id, to_stage_id,
    from_name, to_name, confidence, reason, model, lead_move_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING id, org_id, lead_id, pipeline_id, kind, status, from_stage_id, to_stage_id, from_name, to_name,
    confidence::float8 AS confidence, reason, model, lead_move_id, decided_by, decided_at, created_at, false AS undoable;

-- name: ai-decision
SELECT id, org_id, lead_id, pipeline_id, kind, status, from_stage_id, to_stage_id, from_name, to_name,
    confidence::float8 AS confidence, reason, model, lead_move_id, decided_by, decided_at, created_at, false AS undoable
FROM lead_ai_decisions WHERE org_id = $1 AND id = $2;

-- name: ai-decision-lock
SELECT id, org_id, lead_id, pipeline_id, kind, status, from_stage_id, to_stage_id, from_name, to_name,
    confidence::float8 AS confidence, reason, model, lead_move_id, decided_by, decided_at, created_at, false AS undoable
FROM lead_ai_decisions WHERE org_id = $1 AND id = $2 FOR UPDATE;

-- name: ai-decision-close
-- Moves a decision from status $3 to $4, by member $5, with the change of stage it made.
UPDATE lead_ai_decisions SET status = $4, decided_by = $5, decided_at = now(),
    lead_move_id = coalesce($6, lead_move_id)
WHERE org_id = $1 AND id = $2 AND status = $3;

-- name: ai-suggestions-supersede
-- Closes a lead's open suggestion (a newer classification, or the lead moved).
UPDATE lead_ai_decisions SET status = 'superseded', decided_at = now()
WHERE org_id = $1 AND lead_id = $2 AND status = 'open'
RETURNING id;

-- name: ai-decision-refused-since
-- Whether a person refused the AI this stage for this lead since $4: a dismissed
-- suggestion or an undone move.
SELECT EXISTS (
    SELECT 1 FROM lead_ai_decisions
    WHERE org_id = $1 AND lead_id = $2 AND to_stage_id = $3
        AND status IN ('dismissed', 'undone') AND decided_at >= $4
);

-- name: ai-lead-suggestions
-- A lead's open suggestion (at most one), while the lead is still where it was made.
SELECT d.id, d.org_id, d.lead_id, d.pipeline_id, d.kind, d.status, d.from_stage_id, d.to_stage_id, d.from_name, d.to_name,
    d.confidence::float8 AS confidence, d.reason, d.model, d.lead_move_id, d.decided_by, d.decided_at, d.created_at, false AS undoable
FROM lead_ai_decisions d
JOIN leads l ON l.id = d.lead_id AND l.org_id = d.org_id
WHERE d.org_id = $1 AND d.lead_id = $2 AND d.status = 'open' AND d.from_stage_id = l.stage_id AND d.to_stage_id IS NOT NULL
ORDER BY d.id DESC;

-- name: ai-pipeline-suggestions
-- The open suggestions of a pipeline's leads, newest first: $3 at most, before id $4 (0: from the newest).
SELECT d.id, d.org_id, d.lead_id, d.pipeline_id, d.kind, d.status, d.from_stage_id, d.to_stage_id, d.from_name, d.to_name,
    d.confidence::float8 AS confidence, d.reason, d.model, d.lead_move_id, d.decided_by, d.decided_at, d.created_at, false AS undoable
FROM lead_ai_decisions d
JOIN leads l ON l.id = d.lead_id AND l.org_id = d.org_id
WHERE d.org_id = $1 AND d.pipeline_id = $2 AND d.status = 'open' AND d.from_stage_id = l.stage_id
    AND d.to_stage_id IS NOT NULL AND ($4::bigint = 0 OR d.id < $4)
ORDER BY d.id DESC
LIMIT $3;

-- name: ai-lead-moves
-- A lead's last $3 AI moves, newest first; undoable while the move is still the lead's
-- latest change of stage and the lead is where it put it.
SELECT d.id, d.org_id, d.lead_id, d.pipeline_id, d.kind, d.status, d.from_stage_id, d.to_stage_id, d.from_name, d.to_name,
    d.confidence::float8 AS confidence, d.reason, d.model, d.lead_move_id, d.decided_by, d.decided_at, d.created_at,
    (d.status = 'applied' AND d.to_stage_id = l.stage_id AND d.lead_move_id =
        (SELECT max(m.id) FROM lead_moves m WHERE m.org_id = l.org_id AND m.lead_id = l.id)) AS undoable
FROM lead_ai_decisions d
JOIN leads l ON l.id = d.lead_id AND l.org_id = d.org_id
WHERE d.org_id = $1 AND d.lead_id = $2 AND d.kind = 'move'
ORDER BY d.id DESC
LIMIT $3;

-- name: ai-marks
-- What the cards of leads $2 show of the AI: the move that put each in its stage (while it
-- is its latest change of stage) and its open suggestion (while it is in the stage the
-- suggestion was made from).
SELECT d.id, d.org_id, d.lead_id, d.pipeline_id, d.kind, d.status, d.from_stage_id, d.to_stage_id, d.from_name, d.to_name,
    d.confidence::float8 AS confidence, d.reason, d.model, d.lead_move_id, d.decided_by, d.decided_at, d.created_at,
    (d.status = 'applied') AS undoable
FROM leads l
JOIN lead_ai_decisions d ON d.lead_id = l.id AND d.org_id = l.org_id
WHERE l.org_id = $1 AND l.id = ANY($2::bigint[])
    AND ((d.status = 'open' AND d.from_stage_id = l.stage_id AND d.to_stage_id IS NOT NULL)
        OR (d.status = 'applied' AND d.to_stage_id = l.stage_id AND d.lead_move_id =
            (SELECT max(m.id) FROM lead_moves m WHERE m.org_id = l.org_id AND m.lead_id = l.id)));
