-- Starting calls (app/voice/dial): what a call needs to know of its contact, lead,
-- conversation and number, and the reservation that keeps an org within its limit of calls
-- at once. See migrations/00027_call_start.sql.

-- name: dial-context
-- The contact called ($2, else the lead's $3, else the conversation's $4), its lead ($3 when
-- it is the contact's, else its latest open lead), its conversation ($4 when it is the
-- contact's, else its latest), the number to call from ($5 when ready, else the first
-- ready one with an outbound agent) and the org's calling settings. Ids of another org, or
-- of another contact, come back null.
WITH k AS (
    SELECT c.id, c.name, c.phone, c.email, c.attributes, 'voice' = ANY (c.opted_out) AS opted_out
    FROM contacts c
    WHERE c.org_id = $1 AND c.id = coalesce(nullif($2::bigint, 0),
        (SELECT d.contact_id FROM leads d WHERE d.org_id = $1 AND d.id = $3),
        (SELECT v.contact_id FROM conversations v WHERE v.org_id = $1 AND v.id = $4))
), ld AS (
    SELECT d.id, d.title, d.value_cents, s.name AS stage, p.name AS pipeline, p.currency
    FROM leads d
    JOIN stages s ON s.org_id = $1 AND s.id = d.stage_id
    JOIN pipelines p ON p.org_id = $1 AND p.id = d.pipeline_id
    WHERE d.org_id = $1 AND d.contact_id = (SELECT id FROM k) AND ($3 = 0 OR d.id = $3)
    ORDER BY d.id = $3 DESC, s.outcome = 'open' DESC, d.updated_at DESC, d.id DESC
    LIMIT 1
), cv AS (
    SELECT v.id FROM conversations v
    WHERE v.org_id = $1 AND v.contact_id = (SELECT id FROM k) AND ($4 = 0 OR v.id = $4)
    ORDER BY v.last_message_at DESC, v.id DESC
    LIMIT 1
), num AS (
    SELECT n.id, n.phone_number, n.outbound_agent_id FROM voice_numbers n
    WHERE n.org_id = $1 AND n.status = 'ready' AND (CASE WHEN $5 = 0 THEN n.outbound_agent_id <> '' ELSE n.id = $5 END)
    ORDER BY n.id
    LIMIT 1
)
SELECT k.id AS contact_id, k.name, k.phone, k.email, coalesce(k.attributes, '{}') AS attributes, k.opted_out,
       ld.id AS lead_id, ld.title AS lead_title, ld.value_cents AS lead_value_cents, ld.stage, ld.pipeline, ld.currency,
       (SELECT id FROM cv) AS conversation_id,
       num.id AS number_id, num.phone_number AS from_number, num.outbound_agent_id,
       a.id AS account_id, a.max_concurrent, a.call_hours_start, a.call_hours_end, a.call_days,
       o.time_zone AS org_zone
FROM orgs o
LEFT JOIN k ON true
LEFT JOIN ld ON true
LEFT JOIN num ON true
LEFT JOIN voice_accounts a ON a.org_id = $1
WHERE o.id = $1;

-- name: dial-lock
-- Starts of one org queue here, so two of them never both take the last free slot.
SELECT pg_advisory_xact_lock(7311, $1::int);

-- name: dial-reserve
-- A row for the call about to be started, unless the org already has $max calls live
-- (calls waiting to connect, or connected, in the last two hours: a call whose events were
-- lost stops counting). $2 placeholder call id, $3 from, $4 to, $5 agent, $6 contact,
-- $7 lead, $8 conversation, $9 campaign, $10 number, $11 metadata, $12 dynamic variables,
-- $13 started by, $14 max.
INSERT INTO calls (org_id, call_id, direction, from_number, to_number, agent_id, status, contact_id, lead_id,
    conversation_id, campaign_id, number_id, metadata, dynamic_variables, started_by)
SELECT $1, $2, 'outbound', $3, $4, $5, 'registered', $6, $7, $8, $9, $10, $11, $12, $13
WHERE (SELECT count(*) FROM calls l
       WHERE l.org_id = $1 AND l.status IN ('registered', 'ongoing') AND l.created_at > now() - interval '2 hours') < $14
RETURNING id;

-- name: dial-confirm
-- The reservation takes Retell's call id, unless an event of the call came first and made
-- its own row (then the caller drops the reservation).
UPDATE calls SET call_id = $3, agent_id = coalesce(nullif($4, ''), agent_id), updated_at = now()
WHERE org_id = $1 AND id = $2
  AND NOT EXISTS (SELECT 1 FROM calls o WHERE o.org_id = $1 AND o.call_id = $3)
RETURNING id;

-- name: dial-drop
-- A reservation whose call Retell did not start, or whose events made their own row.
DELETE FROM calls WHERE org_id = $1 AND id = $2 AND status = 'registered' AND call_id LIKE 'pending:%';

-- name: calls-live
-- The org's calls live now, or those of one campaign ($2 > 0).
SELECT count(*) FROM calls
WHERE org_id = $1 AND status IN ('registered', 'ongoing') AND created_at > now() - interval '2 hours'
  AND ($2 = 0 OR campaign_id = $2);

-- name: dial-numbers
-- The org's numbers a call can go out from: set up, with an outbound agent.
SELECT id, phone_number, nickname, outbound_agent_id FROM voice_numbers
WHERE org_id = $1 AND status = 'ready' AND outbound_agent_id <> ''
ORDER BY id;
