-- Voice calls: the webhook ingest of Retell's call events, the call record, the calls API
-- and the calls analytics. See migrations/00020_voice.sql.

-- name: call-ingest
-- Call events (of any calls and orgs; each event of a call at most once) in one statement:
-- each event is claimed (a duplicate does nothing); the new events of a call are folded into
-- one change of its row (each field from the highest event that carries it, as if applied one
-- after the other in their order: Retell's call object only grows from one event to the next);
-- the call is tied to the org's records (the contact the call already has; the metadata's
-- contact, lead, conversation and campaign when they are the org's, another org's ids or none
-- giving null; our number; the contact with the other side's number, or one created for an
-- inbound caller, with its timeline line and contact.created event; the latest conversation of
-- the contact found); the change is applied to the call's row and each new event recorded, the
-- events announced when the transaction commits (one notification per org, with their ids). A
-- later event (higher rank) takes over every field it carries; an earlier one arriving late
-- only fills what is still empty, so the row never goes back. Links, once set, stay. The rows
-- of the calls with new events come back, with those events (events).
-- Arrays, one element per event: $1 org, $2 Retell call id, $3 Retell event, $4 direction,
-- $5 from, $6 to, $7 agent id, $8 agent name, $9 status, $10 rank, $11 disconnection
-- reason, $12 started, $13 ended ('' for none), $14 duration ms, $15 recording URL,
-- $16 transcript, $17 transcript object, $18 summary, $19 sentiment, $20 successful,
-- $21 in voicemail ('' for none), $22 custom analysis, $23 cost (cents), $24 metadata,
-- $25 dynamic variables, $26 metadata's contact, $27 lead, $28 conversation, $29 campaign
-- (0 for none), $30 our number, $31 their number in E.164 ('' for none), $32 the call
-- event's type (call.started…); $33 the contact event's type (contact.created).
WITH i AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
        $9::text[], $10::int[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::text[],
        $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::float8[], $24::text[], $25::text[], $26::bigint[],
        $27::bigint[], $28::bigint[], $29::bigint[], $30::text[], $31::text[], $32::text[])
        AS i(org_id, call_id, event, direction, from_number, to_number, agent_id, agent_name, status, event_rank, reason, started,
             ended, duration_ms, recording_url, transcript, transcript_object, summary, sentiment, successful, in_voicemail,
             custom_analysis, cost_cents, metadata, dynamic_variables, meta_contact, meta_lead, meta_conversation, meta_campaign,
             ours, theirs, type)
), claim AS (
    INSERT INTO call_events (org_id, call_id, event) SELECT i.org_id, i.call_id, i.event FROM i
    ON CONFLICT (org_id, call_id, event) DO NOTHING
    RETURNING org_id, call_id, event
), ev AS (
    -- The events claimed: each call's events new to it (one of each).
    SELECT DISTINCT ON (i.org_id, i.call_id, i.event_rank) i.*
    FROM i JOIN claim ON claim.org_id = i.org_id AND claim.call_id = i.call_id AND claim.event = i.event
), f AS (
    -- One row per call: its new events folded as if applied one after the other in their
    -- order (call_started 1, call_ended 2, call_analyzed 3): each field from the highest
    -- event that carries it. (Retell's call object only grows from one event to the next.)
    SELECT k.org_id, k.call_id, greatest(e3.event_rank, e2.event_rank, e1.event_rank) AS event_rank,
        coalesce(e3.direction, e2.direction, e1.direction) AS direction, coalesce(e3.status, e2.status, e1.status) AS status,
        coalesce(nullif(e3.from_number, ''), nullif(e2.from_number, ''), e1.from_number, '') AS from_number,
        coalesce(nullif(e3.to_number, ''), nullif(e2.to_number, ''), e1.to_number, '') AS to_number,
        coalesce(nullif(e3.agent_id, ''), nullif(e2.agent_id, ''), e1.agent_id, '') AS agent_id,
        coalesce(nullif(e3.agent_name, ''), nullif(e2.agent_name, ''), e1.agent_name, '') AS agent_name,
        coalesce(nullif(e3.reason, ''), nullif(e2.reason, ''), e1.reason, '') AS reason,
        coalesce(nullif(e3.started, ''), nullif(e2.started, ''), e1.started, '') AS started,
        coalesce(nullif(e3.ended, ''), nullif(e2.ended, ''), e1.ended, '') AS ended,
        coalesce(nullif(e3.recording_url, ''), nullif(e2.recording_url, ''), e1.recording_url, '') AS recording_url,
        coalesce(nullif(e3.transcript, ''), nullif(e2.transcript, ''), e1.transcript, '') AS transcript,
        coalesce(nullif(e3.summary, ''), nullif(e2.summary, ''), e1.summary, '') AS summary,
        coalesce(nullif(e3.sentiment, ''), nullif(e2.sentiment, ''), e1.sentiment, '') AS sentiment,
        coalesce(nullif(e3.successful, ''), nullif(e2.successful, ''), e1.successful, '') AS successful,
        coalesce(nullif(e3.in_voicemail, ''), nullif(e2.in_voicemail, ''), e1.in_voicemail, '') AS in_voicemail,
        coalesce(nullif(e3.ours, ''), nullif(e2.ours, ''), e1.ours, '') AS ours,
        coalesce(nullif(e3.theirs, ''), nullif(e2.theirs, ''), e1.theirs, '') AS theirs,
        coalesce(nullif(e3.duration_ms, 0), nullif(e2.duration_ms, 0), e1.duration_ms, 0) AS duration_ms,
        coalesce(nullif(e3.cost_cents, 0), nullif(e2.cost_cents, 0), e1.cost_cents, 0) AS cost_cents,
        coalesce(nullif(e3.meta_contact, 0), nullif(e2.meta_contact, 0), e1.meta_contact, 0) AS meta_contact,
        coalesce(nullif(e3.meta_lead, 0), nullif(e2.meta_lead, 0), e1.meta_lead, 0) AS meta_lead,
        coalesce(nullif(e3.meta_conversation, 0), nullif(e2.meta_conversation, 0), e1.meta_conversation, 0) AS meta_conversation,
        coalesce(nullif(e3.meta_campaign, 0), nullif(e2.meta_campaign, 0), e1.meta_campaign, 0) AS meta_campaign,
        coalesce(nullif(e3.transcript_object::jsonb, '[]'), nullif(e2.transcript_object::jsonb, '[]'),
           e1.transcript_object::jsonb, '[]')::text AS transcript_object,
        coalesce(nullif(e3.custom_analysis::jsonb, '{}'), nullif(e2.custom_analysis::jsonb, '{}'),
           e1.custom_analysis::jsonb, '{}')::text AS custom_analysis,
        coalesce(nullif(e3.metadata::jsonb, '{}'), nullif(e2.metadata::jsonb, '{}'), e1.metadata::jsonb, '{}')::text AS metadata,
        coalesce(nullif(e3.dynamic_variables::jsonb, '{}'), nullif(e2.dynamic_variables::jsonb, '{}'),
           e1.dynamic_variables::jsonb, '{}')::text AS dynamic_variables
    FROM (SELECT DISTINCT e.org_id, e.call_id FROM ev e) k
    LEFT JOIN ev e3 ON e3.org_id = k.org_id AND e3.call_id = k.call_id AND e3.event_rank = 3
    LEFT JOIN ev e2 ON e2.org_id = k.org_id AND e2.call_id = k.call_id AND e2.event_rank = 2
    LEFT JOIN ev e1 ON e1.org_id = k.org_id AND e1.call_id = k.call_id AND e1.event_rank = 1
), l AS (
    SELECT i.*,
           (SELECT k.contact_id FROM calls k WHERE k.org_id = i.org_id AND k.call_id = i.call_id) AS known_contact_id,
           CASE WHEN i.meta_contact > 0 THEN
               (SELECT c.id FROM contacts c WHERE c.org_id = i.org_id AND c.id = i.meta_contact) END AS contact_id,
           CASE WHEN i.meta_lead > 0 THEN (SELECT d.id FROM leads d WHERE d.org_id = i.org_id AND d.id = i.meta_lead) END AS lead_id,
           CASE WHEN i.meta_conversation > 0 THEN
               (SELECT v.id FROM conversations v WHERE v.org_id = i.org_id AND v.id = i.meta_conversation) END AS conversation_id,
           CASE WHEN i.meta_campaign > 0 THEN
               (SELECT p.id FROM campaigns p WHERE p.org_id = i.org_id AND p.id = i.meta_campaign) END AS campaign_id,
           (SELECT n.id FROM voice_numbers n WHERE n.org_id = i.org_id AND n.phone_number = i.ours) AS number_id,
           CASE WHEN i.theirs <> '' THEN
               (SELECT c.id FROM contacts c WHERE c.org_id = i.org_id AND c.phone = i.theirs) END AS phone_contact_id
    FROM f i
), newc AS (
    -- An inbound caller nobody knows becomes a contact (once for all of the caller's
    -- calls). A contact of the number created meanwhile elsewhere is taken (DO UPDATE
    -- returns it); xmax = 0 tells a new row.
    INSERT INTO contacts AS c (org_id, phone)
    SELECT DISTINCT l.org_id, l.theirs FROM l
    WHERE l.direction = 'inbound' AND l.theirs <> '' AND l.known_contact_id IS NULL AND l.contact_id IS NULL
      AND l.phone_contact_id IS NULL
    ORDER BY l.org_id, l.theirs
    ON CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO UPDATE SET phone = EXCLUDED.phone
    WHERE c.org_id = EXCLUDED.org_id
    RETURNING c.id, c.org_id, c.phone, (c.xmax = 0) AS created
), cline AS (
    INSERT INTO contact_events (org_id, contact_id, kind, data)
    SELECT n.org_id, n.id, 'created', '{"source": "call"}' FROM newc n WHERE n.created
), cpub AS (
    INSERT INTO events (org_id, type, payload)
    SELECT n.org_id, $33, jsonb_build_object('id', n.id, 'name', '') FROM newc n WHERE n.created
    RETURNING id, org_id
), link AS (
    SELECT l.*,
           coalesce(l.contact_id, l.phone_contact_id,
               (SELECT n.id FROM newc n WHERE n.org_id = l.org_id AND n.phone = l.theirs)) AS contact,
           coalesce(l.conversation_id, (SELECT v.id FROM conversations v
               WHERE v.org_id = l.org_id AND v.contact_id = coalesce(l.known_contact_id, l.contact_id, l.phone_contact_id)
               ORDER BY v.last_message_at DESC, v.id DESC LIMIT 1)) AS conversation
    FROM l
), up AS (
    INSERT INTO calls AS c (org_id, call_id, direction, from_number, to_number, agent_id, agent_name, status, event_rank,
        disconnection_reason, started_at, ended_at, duration_ms, recording_url, transcript, transcript_object, summary, sentiment,
        successful, in_voicemail, custom_analysis, cost_cents, metadata, dynamic_variables, contact_id, lead_id, conversation_id,
        campaign_id, number_id)
    SELECT r.org_id, r.call_id, r.direction, r.from_number, r.to_number, r.agent_id, r.agent_name, r.status, r.event_rank,
        r.reason, nullif(r.started, '')::timestamptz, nullif(r.ended, '')::timestamptz, r.duration_ms, r.recording_url,
        r.transcript, r.transcript_object::jsonb, r.summary, r.sentiment, nullif(r.successful, '')::boolean,
        nullif(r.in_voicemail, '')::boolean, r.custom_analysis::jsonb, r.cost_cents, r.metadata::jsonb,
        r.dynamic_variables::jsonb, r.contact, r.lead_id, r.conversation, r.campaign_id, r.number_id
    FROM link r
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
    WHERE c.org_id = EXCLUDED.org_id
    RETURNING c.id, c.org_id, c.call_id, c.number_id, c.contact_id, c.lead_id, c.conversation_id, c.campaign_id, c.direction,
        c.from_number, c.to_number, c.agent_id, c.agent_name, c.status, c.event_rank, c.disconnection_reason, c.started_at,
        c.ended_at, c.duration_ms, c.recording_url, c.recording_file_id, c.transcript, c.transcript_object, c.summary,
        c.sentiment, c.successful, c.in_voicemail, c.custom_analysis, c.cost_cents, c.metadata, c.dynamic_variables,
        c.created_at, c.updated_at
), pub AS (
    -- Each call's event: events.CallRef (ids of no record and an empty outcome left out).
    INSERT INTO events (org_id, type, payload)
    SELECT u.org_id, i.type, jsonb_strip_nulls(jsonb_build_object('id', u.id, 'call_id', u.call_id, 'direction', u.direction,
        'status', u.status, 'contact_id', u.contact_id, 'lead_id', u.lead_id, 'conversation_id', u.conversation_id,
        'campaign_id', u.campaign_id, 'outcome', nullif(call_outcome(u.status, u.disconnection_reason, u.in_voicemail), '')))
    FROM up u JOIN ev i ON i.org_id = u.org_id AND i.call_id = u.call_id
    ORDER BY u.org_id, u.call_id, i.event_rank
    RETURNING id, org_id
)
SELECT u.*,
       (SELECT array_agg(e.event ORDER BY e.event_rank) FROM ev e WHERE e.org_id = u.org_id AND e.call_id = u.call_id) AS events,
       (SELECT count(pg_notify('masteria_events', json_build_object('org_id', e.org_id, 'ids', e.ids)::text))
        FROM (SELECT x.org_id, json_agg(x.id ORDER BY x.id) AS ids
              FROM (SELECT id, org_id FROM cpub UNION ALL SELECT id, org_id FROM pub) x GROUP BY x.org_id) e) AS announced
FROM up u;

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

-- name: call-stats-marks
-- When each day of [$3, $4] in zone $2 had its figures worked out.
SELECT s.day, s.computed_at FROM call_stats_daily s
WHERE s.org_id = $1 AND s.zone = $2 AND s.dim = 'total' AND s.key = '' AND s.day >= $3::date AND s.day <= $4::date;

-- name: calls-changed-since
-- The calls changed after $2, the latest first (at most $3): the days whose figures are
-- out of date.
SELECT c.created_at, c.updated_at FROM calls c
WHERE c.org_id = $1 AND c.updated_at > $2
ORDER BY c.updated_at DESC LIMIT $3;

-- name: call-stats-lock
-- One computation of an org's figures at a time.
SELECT pg_advisory_xact_lock(hashtext('call_stats_daily'), ($1::bigint % 2147483647)::int);

-- name: call-stats-clear
DELETE FROM call_stats_daily WHERE org_id = $1 AND zone = $2 AND day = ANY($3::date[]);

-- name: call-day-figures
-- fragment: the figures of days $3 (zone $2; their calls between $4 and $5) worked out
-- from the calls, shared by call-stats-compute (which stores them) and call-stats-live
-- (which shows them): one row per day (dim 'total', key '') and per day and agent, number
-- and campaign (key the agent id, number or campaign id, '' for none; label the agent's
-- name). The calls are first counted in one pass by what the figures read (few distinct
-- rows), then summed. Answered and voicemail are call_outcome's (model.Call.Outcome):
-- a voicemail counts among answered calls; success among the calls analysed.
WITH raw AS (
    SELECT (c.created_at AT TIME ZONE $2)::date AS day, c.agent_id, c.agent_name, c.number_id, c.campaign_id, c.status,
           c.disconnection_reason AS reason, c.in_voicemail, c.successful, c.sentiment,
           count(*) AS calls, sum(c.duration_ms) AS duration_ms, sum(c.cost_cents) AS cost_cents
    FROM calls c
    WHERE c.org_id = $1 AND c.created_at >= $4 AND c.created_at < $5
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
), cell AS (
    SELECT r.day, r.agent_id, r.number_id, r.campaign_id, max(r.agent_name) AS agent_name,
           sum(r.calls) AS calls,
           coalesce(sum(r.calls) FILTER (WHERE a.answered), 0) AS answered,
           coalesce(sum(r.calls) FILTER (WHERE o.outcome = 'voicemail'), 0) AS voicemail,
           coalesce(sum(r.duration_ms) FILTER (WHERE a.answered), 0) AS duration_ms,
           coalesce(sum(r.calls) FILTER (WHERE r.successful IS NOT NULL), 0) AS analysed,
           coalesce(sum(r.calls) FILTER (WHERE r.successful), 0) AS successful,
           coalesce(sum(r.calls) FILTER (WHERE r.sentiment = 'Positive'), 0) AS positive,
           coalesce(sum(r.calls) FILTER (WHERE r.sentiment = 'Neutral'), 0) AS neutral,
           coalesce(sum(r.calls) FILTER (WHERE r.sentiment = 'Negative'), 0) AS negative,
           sum(r.cost_cents) AS cost_cents
    FROM raw r
    CROSS JOIN LATERAL (SELECT call_outcome(r.status, r.reason, r.in_voicemail) AS outcome) o
    CROSS JOIN LATERAL (SELECT o.outcome IN ('answered', 'voicemail') AS answered) a
    WHERE r.day = ANY($3::date[])
    GROUP BY 1, 2, 3, 4
), figures AS (
    SELECT x.day,
           CASE WHEN GROUPING(x.agent_id) = 0 THEN 'agent' WHEN GROUPING(x.number_id) = 0 THEN 'number'
                WHEN GROUPING(x.campaign_id) = 0 THEN 'campaign' ELSE 'total' END AS dim,
           CASE WHEN GROUPING(x.agent_id) = 0 THEN x.agent_id WHEN GROUPING(x.number_id) = 0 THEN coalesce(x.number_id::text, '')
                WHEN GROUPING(x.campaign_id) = 0 THEN coalesce(x.campaign_id::text, '') ELSE '' END AS key,
           CASE WHEN GROUPING(x.agent_id) = 0 THEN coalesce(max(x.agent_name), '') ELSE '' END AS label,
           sum(x.calls)::bigint AS calls, sum(x.answered)::bigint AS answered, sum(x.voicemail)::bigint AS voicemail,
           sum(x.duration_ms)::bigint AS duration_ms, sum(x.analysed)::bigint AS analysed, sum(x.successful)::bigint AS successful,
           sum(x.positive)::bigint AS positive, sum(x.neutral)::bigint AS neutral, sum(x.negative)::bigint AS negative,
           coalesce(sum(x.cost_cents), 0)::float8 AS cost_cents
    FROM cell x
    GROUP BY GROUPING SETS ((x.day), (x.day, x.agent_id), (x.day, x.number_id), (x.day, x.campaign_id))
);

-- name: call-stats-compute
-- Stores the figures of days $3 (zone $2; their calls between $4 and $5), marked computed a
-- minute before now so that a call changed by a transaction still running is looked at
-- again. Each day gets a 'total' row, with zeros when it had no call.
-- include: call-day-figures
INSERT INTO call_stats_daily (org_id, zone, day, dim, key, label, calls, answered, voicemail, duration_ms, analysed, successful,
    positive, neutral, negative, cost_cents, computed_at)
SELECT $1, $2, d.day, 'total', '', '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, now() - interval '1 minute'
FROM unnest($3::date[]) AS d(day)
WHERE NOT EXISTS (SELECT 1 FROM figures f WHERE f.day = d.day AND f.dim = 'total')
UNION ALL
SELECT $1, $2, f.day, f.dim, f.key, f.label, f.calls, f.answered, f.voicemail, f.duration_ms, f.analysed, f.successful,
       f.positive, f.neutral, f.negative, f.cost_cents, now() - interval '1 minute'
FROM figures f;

-- name: call-stats-live
-- The figures of days $3 (zone $2; their calls between $4 and $5) worked out from the
-- calls, read only: what a page shows for days whose stored figures are missing or out of
-- date. Rows as call-stats gives them (from the same per-day figures call-stats-compute
-- stores), without the order.
-- include: call-day-figures
SELECT x.dim, x.key,
       CASE x.dim WHEN 'agent' THEN x.label WHEN 'number' THEN coalesce(n.phone_number, '')
           WHEN 'campaign' THEN coalesce(p.name, '') ELSE '' END AS label,
       x.calls, x.answered, x.voicemail, x.duration_ms, x.analysed, x.successful, x.positive, x.neutral, x.negative, x.cost_cents
FROM (
    SELECT 'day' AS dim, to_char(f.day, 'YYYY-MM-DD') AS key, '' AS label, f.calls, f.answered, f.voicemail, f.duration_ms,
           f.analysed, f.successful, f.positive, f.neutral, f.negative, f.cost_cents
    FROM figures f
    WHERE f.dim = 'total'
  UNION ALL
    SELECT f.dim, f.key, max(f.label), sum(f.calls)::bigint, sum(f.answered)::bigint, sum(f.voicemail)::bigint,
           sum(f.duration_ms)::bigint, sum(f.analysed)::bigint, sum(f.successful)::bigint, sum(f.positive)::bigint,
           sum(f.neutral)::bigint, sum(f.negative)::bigint, sum(f.cost_cents)::float8
    FROM figures f
    WHERE f.dim <> 'total'
    GROUP BY f.dim, f.key
) x
LEFT JOIN voice_numbers n ON x.dim = 'number' AND n.org_id = $1 AND n.id::text = x.key
LEFT JOIN campaigns p ON x.dim = 'campaign' AND p.org_id = $1 AND p.id::text = x.key;

-- name: call-stats
-- The stored figures of days [$3, $4] in zone $2 but days $5 (out of date): each day's,
-- and by agent, number and campaign (dim 'day', 'agent', 'number', 'campaign'), with the
-- names of numbers and campaigns as they are now.
SELECT x.dim, x.key,
       CASE x.dim WHEN 'agent' THEN x.label WHEN 'number' THEN coalesce(n.phone_number, '')
           WHEN 'campaign' THEN coalesce(p.name, '') ELSE '' END AS label,
       x.calls, x.answered, x.voicemail, x.duration_ms, x.analysed, x.successful, x.positive, x.neutral, x.negative, x.cost_cents
FROM (
    SELECT 'day' AS dim, to_char(s.day, 'YYYY-MM-DD') AS key, '' AS label,
           sum(s.calls)::bigint AS calls, sum(s.answered)::bigint AS answered, sum(s.voicemail)::bigint AS voicemail,
           sum(s.duration_ms)::bigint AS duration_ms, sum(s.analysed)::bigint AS analysed, sum(s.successful)::bigint AS successful,
           sum(s.positive)::bigint AS positive, sum(s.neutral)::bigint AS neutral, sum(s.negative)::bigint AS negative,
           sum(s.cost_cents)::float8 AS cost_cents
    FROM call_stats_daily s
    WHERE s.org_id = $1 AND s.zone = $2 AND s.dim = 'total' AND s.day >= $3::date AND s.day <= $4::date
      AND NOT s.day = ANY($5::date[])
    GROUP BY s.day
  UNION ALL
    SELECT s.dim, s.key, max(s.label),
           sum(s.calls)::bigint, sum(s.answered)::bigint, sum(s.voicemail)::bigint, sum(s.duration_ms)::bigint,
           sum(s.analysed)::bigint, sum(s.successful)::bigint, sum(s.positive)::bigint, sum(s.neutral)::bigint,
           sum(s.negative)::bigint, sum(s.cost_cents)::float8
    FROM call_stats_daily s
    WHERE s.org_id = $1 AND s.zone = $2 AND s.dim <> 'total' AND s.day >= $3::date AND s.day <= $4::date
      AND NOT s.day = ANY($5::date[])
    GROUP BY s.dim, s.key
) x
LEFT JOIN voice_numbers n ON x.dim = 'number' AND n.org_id = $1 AND n.id::text = x.key
LEFT JOIN campaigns p ON x.dim = 'campaign' AND p.org_id = $1 AND p.id::text = x.key
ORDER BY x.dim, x.calls DESC, x.key;

-- name: call-stats-orgs
-- cross-org: the job that keeps the daily figures up to date visits the orgs whose calls
-- changed lately ($1: since when).
SELECT DISTINCT c.org_id FROM calls c WHERE c.updated_at > $1;
