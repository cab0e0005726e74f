-- Voice calls: the webhook ingest of Retell's call events, the call record, the calls API
-- and the calls analytics. See migrations/00020_voice.sql.

-- name: voice-account-for-webhook
-- cross-org: the webhook URL names the account; its key then proves the request.
SELECT id, org_id, api_key_sealed, status, last_error, tested_at, max_concurrent, created_at, updated_at
FROM voice_accounts WHERE id = $1;

-- name: call-event-claim
-- Records that a call's event arrived; no row back means it was already applied.
-- $1 org, $2 Retell call id, $3 event.
INSERT INTO call_events (org_id, call_id, event) VALUES ($1, $2, $3)
ON CONFLICT (org_id, call_id, event) DO NOTHING
RETURNING event;

-- name: call-links
-- The call's links to the org's records, from an event's metadata or the contact found by
-- number: ids of another org (or none) come back null. $1 org, $2 contact, $3 lead,
-- $4 conversation, $5 campaign, $6 our number (E.164 or '').
SELECT (SELECT c.id FROM contacts c WHERE c.org_id = $1 AND c.id = $2) AS contact_id,
       (SELECT l.id FROM leads l WHERE l.org_id = $1 AND l.id = $3) AS lead_id,
       (SELECT v.id FROM conversations v WHERE v.org_id = $1 AND v.id = $4) AS conversation_id,
       (SELECT p.id FROM campaigns p WHERE p.org_id = $1 AND p.id = $5) AS campaign_id,
       (SELECT n.id FROM voice_numbers n WHERE n.org_id = $1 AND n.phone_number = $6) AS number_id;

-- name: call-latest-conversation
-- The conversation a call of this contact belongs in: the contact's latest one.
SELECT v.id FROM conversations v WHERE v.org_id = $1 AND v.contact_id = $2
ORDER BY v.last_message_at DESC, v.id DESC LIMIT 1;

-- name: call-apply
-- One event applied to the call's row (created by the first event of any kind). A later
-- event (higher rank) takes over every field it carries; an earlier one arriving late only
-- fills what is still empty, so the row never goes back. Links, once set, stay.
-- $1 org, $2 Retell call id, $3 direction, $4 from, $5 to, $6 agent id, $7 agent name,
-- $8 status, $9 rank, $10 disconnection reason, $11 started, $12 ended, $13 duration ms,
-- $14 recording URL, $15 transcript, $16 transcript object, $17 summary, $18 sentiment,
-- $19 successful, $20 in voicemail, $21 custom analysis, $22 cost (cents), $23 metadata,
-- $24 dynamic variables, $25 contact, $26 lead, $27 conversation, $28 campaign, $29 number.
INSERT INTO calls AS c (org_id, call_id, direction, from_number, to_number, agent_id, agent_name, status, event_rank,
    disconnection_reason, started_at, ended_at, duration_ms, recording_url, transcript, transcript_object, summary, sentiment,
    successful, in_voicemail, custom_analysis, cost_cents, metadata, dynamic_variables, contact_id, lead_id, conversation_id,
    campaign_id, number_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
    $25, $26, $27, $28, $29)
ON CONFLICT (org_id, call_id) DO UPDATE SET
    status = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN EXCLUDED.status ELSE c.status END,
    event_rank = greatest(c.event_rank, EXCLUDED.event_rank),
    from_number = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.from_number, ''), c.from_number)
        ELSE coalesce(nullif(c.from_number, ''), EXCLUDED.from_number) END,
    to_number = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.to_number, ''), c.to_number)
        ELSE coalesce(nullif(c.to_number, ''), EXCLUDED.to_number) END,
    agent_id = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.agent_id, ''), c.agent_id)
        ELSE coalesce(nullif(c.agent_id, ''), EXCLUDED.agent_id) END,
    agent_name = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.agent_name, ''), c.agent_name)
        ELSE coalesce(nullif(c.agent_name, ''), EXCLUDED.agent_name) END,
    disconnection_reason = CASE WHEN EXCLUDED.event_rank > c.event_rank
        THEN coalesce(nullif(EXCLUDED.disconnection_reason, ''), c.disconnection_reason)
        ELSE coalesce(nullif(c.disconnection_reason, ''), EXCLUDED.disconnection_reason) END,
    started_at = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(EXCLUDED.started_at, c.started_at)
        ELSE coalesce(c.started_at, EXCLUDED.started_at) END,
    ended_at = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(EXCLUDED.ended_at, c.ended_at)
        ELSE coalesce(c.ended_at, EXCLUDED.ended_at) END,
    duration_ms = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.duration_ms, 0), c.duration_ms)
        ELSE coalesce(nullif(c.duration_ms, 0), EXCLUDED.duration_ms) END,
    recording_url = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.recording_url, ''), c.recording_url)
        ELSE coalesce(nullif(c.recording_url, ''), EXCLUDED.recording_url) END,
    transcript = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.transcript, ''), c.transcript)
        ELSE coalesce(nullif(c.transcript, ''), EXCLUDED.transcript) END,
    transcript_object = CASE WHEN EXCLUDED.event_rank > c.event_rank
        THEN coalesce(nullif(EXCLUDED.transcript_object, '[]'::jsonb), c.transcript_object)
        ELSE coalesce(nullif(c.transcript_object, '[]'::jsonb), EXCLUDED.transcript_object) END,
    summary = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.summary, ''), c.summary)
        ELSE coalesce(nullif(c.summary, ''), EXCLUDED.summary) END,
    sentiment = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.sentiment, ''), c.sentiment)
        ELSE coalesce(nullif(c.sentiment, ''), EXCLUDED.sentiment) END,
    successful = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(EXCLUDED.successful, c.successful)
        ELSE coalesce(c.successful, EXCLUDED.successful) END,
    in_voicemail = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(EXCLUDED.in_voicemail, c.in_voicemail)
        ELSE coalesce(c.in_voicemail, EXCLUDED.in_voicemail) END,
    custom_analysis = CASE WHEN EXCLUDED.event_rank > c.event_rank
        THEN coalesce(nullif(EXCLUDED.custom_analysis, '{}'::jsonb), c.custom_analysis)
        ELSE coalesce(nullif(c.custom_analysis, '{}'::jsonb), EXCLUDED.custom_analysis) END,
    cost_cents = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.cost_cents, 0), c.cost_cents)
        ELSE coalesce(nullif(c.cost_cents, 0), EXCLUDED.cost_cents) END,
    metadata = CASE WHEN EXCLUDED.event_rank > c.event_rank THEN coalesce(nullif(EXCLUDED.metadata, '{}'::jsonb), c.metadata)
        ELSE coalesce(nullif(c.metadata, '{}'::jsonb), EXCLUDED.metadata) END,
    dynamic_variables = CASE WHEN EXCLUDED.event_rank > c.event_rank
        THEN coalesce(nullif(EXCLUDED.dynamic_variables, '{}'::jsonb), c.dynamic_variables)
        ELSE coalesce(nullif(c.dynamic_variables, '{}'::jsonb), EXCLUDED.dynamic_variables) END,
    contact_id = coalesce(c.contact_id, EXCLUDED.contact_id),
    lead_id = coalesce(c.lead_id, EXCLUDED.lead_id),
    conversation_id = coalesce(c.conversation_id, EXCLUDED.conversation_id),
    campaign_id = coalesce(c.campaign_id, EXCLUDED.campaign_id),
    number_id = coalesce(c.number_id, EXCLUDED.number_id),
    updated_at = now()
WHERE c.org_id = $1
RETURNING c.id, c.org_id, c.call_id, c.number_id, c.contact_id, c.lead_id, c.conversation_id, c.campaign_id, c.direction,
    c.from_number, c.to_number, c.agent_id, c.agent_name, c.status, c.event_rank, c.disconnection_reason, c.started_at, c.ended_at,
    c.duration_ms, c.recording_url, c.recording_file_id, c.transcript, c.transcript_object, c.summary, c.sentiment, c.successful,
    c.in_voicemail, c.custom_analysis, c.cost_cents, c.metadata, c.dynamic_variables, c.created_at, c.updated_at;

-- name: call-contact-of
-- The contact an existing call is tied to (null when none), to skip finding it again.
SELECT c.contact_id FROM calls c WHERE c.org_id = $1 AND c.call_id = $2;

-- name: call-set-recording
-- The recording's copy in the media store, kept once. $1 org, $2 call, $3 media file.
UPDATE calls SET recording_file_id = $3, updated_at = now()
WHERE org_id = $1 AND id = $2 AND recording_file_id IS NULL;

-- name: call-columns
-- fragment: the columns of every call read; the store appends filters.
SELECT c.id, c.org_id, c.call_id, c.number_id, c.contact_id, c.lead_id, c.conversation_id, c.campaign_id, c.direction,
    c.from_number, c.to_number, c.agent_id, c.agent_name, c.status, c.event_rank, c.disconnection_reason, c.started_at, c.ended_at,
    c.duration_ms, c.recording_url, c.recording_file_id, c.transcript, c.transcript_object, c.summary, c.sentiment, c.successful,
    c.in_voicemail, c.custom_analysis, c.cost_cents, c.metadata, c.dynamic_variables, c.created_at, c.updated_at
FROM calls c
WHERE c.org_id = $1

-- name: calls-of-conversation
-- The calls of a conversation's thread, oldest first.
SELECT c.id, c.org_id, c.call_id, c.number_id, c.contact_id, c.lead_id, c.conversation_id, c.campaign_id, c.direction,
    c.from_number, c.to_number, c.agent_id, c.agent_name, c.status, c.event_rank, c.disconnection_reason, c.started_at, c.ended_at,
    c.duration_ms, c.recording_url, c.recording_file_id, c.transcript, c.transcript_object, c.summary, c.sentiment, c.successful,
    c.in_voicemail, c.custom_analysis, c.cost_cents, c.metadata, c.dynamic_variables, c.created_at, c.updated_at
FROM calls c
WHERE c.org_id = $1 AND c.conversation_id = $2
ORDER BY c.created_at, c.id LIMIT 200;

-- name: calls-analytics
-- The calls of a period [$2, $3) by day (in the org's zone $4), agent, our number and
-- campaign, and overall, in one pass: dim is 'total', 'day', 'agent', 'number' or
-- 'campaign'. Answered: the call connected (ended, not a dial failure); voicemail is
-- counted over answered calls; success over the calls analysed.
WITH base AS (
    SELECT c.created_at, c.agent_id, c.agent_name, c.number_id, c.campaign_id, c.duration_ms, c.cost_cents, c.sentiment,
           c.successful,
           (c.status = 'ended' AND c.disconnection_reason NOT IN ('dial_busy', 'dial_failed', 'dial_no_answer',
               'invalid_destination', 'user_declined', 'registered_call_timeout', 'marked_as_spam', 'scam_detected',
               'concurrency_limit_reached', 'no_concurrency_fallback', 'no_valid_payment', 'sip_routing_error',
               'telephony_provider_permission_denied', 'telephony_provider_unavailable')) AS answered,
           (c.in_voicemail IS TRUE OR c.disconnection_reason IN ('voicemail_reached', 'ivr_reached')) AS voicemail
    FROM calls c
    WHERE c.org_id = $1 AND c.created_at >= $2 AND c.created_at < $3
), agg AS (
    SELECT CASE WHEN GROUPING(b.day) = 0 THEN 'day' WHEN GROUPING(b.agent_id) = 0 THEN 'agent'
                WHEN GROUPING(b.number_id) = 0 THEN 'number' WHEN GROUPING(b.campaign_id) = 0 THEN 'campaign'
                ELSE 'total' END AS dim,
           b.day, b.agent_id, max(b.agent_name) AS agent_name, b.number_id, b.campaign_id,
           count(*) AS calls,
           count(*) FILTER (WHERE b.answered) AS answered,
           count(*) FILTER (WHERE b.answered AND b.voicemail) AS voicemail,
           coalesce(sum(b.duration_ms) FILTER (WHERE b.answered), 0)::bigint AS duration_ms,
           count(*) FILTER (WHERE b.successful IS NOT NULL) AS analysed,
           count(*) FILTER (WHERE b.successful) AS successful,
           count(*) FILTER (WHERE b.sentiment = 'Positive') AS positive,
           count(*) FILTER (WHERE b.sentiment = 'Neutral') AS neutral,
           count(*) FILTER (WHERE b.sentiment = 'Negative') AS negative,
           coalesce(sum(b.cost_cents), 0)::float8 AS cost_cents
    FROM (SELECT base.*, (base.created_at AT TIME ZONE $4)::date AS day FROM base) b
    GROUP BY GROUPING SETS ((b.day), (b.agent_id), (b.number_id), (b.campaign_id), ())
)
SELECT a.dim,
       CASE a.dim WHEN 'day' THEN to_char(a.day, 'YYYY-MM-DD') WHEN 'agent' THEN a.agent_id
           WHEN 'number' THEN coalesce(a.number_id::text, '') WHEN 'campaign' THEN coalesce(a.campaign_id::text, '') ELSE '' END AS key,
       CASE a.dim WHEN 'agent' THEN coalesce(a.agent_name, '') WHEN 'number' THEN coalesce(n.phone_number, '')
           WHEN 'campaign' THEN coalesce(p.name, '') ELSE '' END AS label,
       a.calls, a.answered, a.voicemail, a.duration_ms, a.analysed, a.successful, a.positive, a.neutral, a.negative, a.cost_cents
FROM agg a
LEFT JOIN voice_numbers n ON n.org_id = $1 AND n.id = a.number_id
LEFT JOIN campaigns p ON p.org_id = $1 AND p.id = a.campaign_id
ORDER BY a.dim, a.day, a.calls DESC, key;
