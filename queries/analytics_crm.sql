-- The metric engine's leads, campaigns and cadences families (app/analytics): their
-- rollups (migration 00039), the figures read from them, and the drill-downs that list the
-- rows behind a figure with the rollup's own rules. Series read a period's rows bucket by
-- bucket: $n::timestamptz[] are the starts of the buckets (worked out in the org's zone),
-- and width_bucket gives each row the index (1…) of its bucket; figures pass one bucket.

-- name: analytics-leads-clear
DELETE FROM analytics_lead_entries WHERE org_id = $1 AND lead_id = ANY($2::bigint[]);

-- name: analytics-leads-compute
-- The entries of leads $2: the stage each was created in (the first move's origin, or the
-- stage it is in when it never moved) and every move, with the lead's owner and value now;
-- an entry into an open stage moved on when a later entry of the lead is into an open
-- stage further along the same pipeline (by position) or into a won stage; it is past the
-- first stage when its stage is open and not the pipeline's first, or won.
WITH e AS (
    SELECT l.org_id, l.id AS lead_id, x.move_id, x.at, coalesce(s.pipeline_id, l.pipeline_id) AS pipeline_id, x.stage_id,
           coalesce(s.outcome, 'open') AS outcome, s.position, l.owner_id, l.value_cents
    FROM leads l
    CROSS JOIN LATERAL (
        SELECT 0::bigint AS move_id, l.created_at AS at,
               coalesce((SELECT f.from_stage_id FROM lead_moves f WHERE f.org_id = l.org_id AND f.lead_id = l.id ORDER BY f.id LIMIT 1),
                        l.stage_id) AS stage_id
        UNION ALL
        SELECT m.id, m.created_at, m.to_stage_id FROM lead_moves m WHERE m.org_id = l.org_id AND m.lead_id = l.id
    ) x
    LEFT JOIN stages s ON s.org_id = l.org_id AND s.id = x.stage_id
    WHERE l.org_id = $1 AND l.id = ANY($2::bigint[])
)
INSERT INTO analytics_lead_entries (org_id, lead_id, move_id, at, pipeline_id, stage_id, outcome, owner_id, value_cents, moved_on, past_first)
SELECT e.org_id, e.lead_id, e.move_id, e.at, e.pipeline_id, e.stage_id, e.outcome, e.owner_id, e.value_cents,
       e.outcome = 'open' AND e.position IS NOT NULL AND (
           coalesce(bool_or(e.outcome = 'won') OVER later, false)
           OR coalesce(max(CASE WHEN e.outcome = 'open' AND e.position IS NOT NULL THEN ARRAY[e.position::bigint, e.stage_id] END)
                       OVER later_here > ARRAY[e.position::bigint, e.stage_id], false)),
       e.outcome = 'won' OR (e.outcome = 'open' AND e.position IS NOT NULL AND EXISTS (
           SELECT 1 FROM stages f WHERE f.org_id = e.org_id AND f.pipeline_id = e.pipeline_id AND (f.position, f.id) < (e.position, e.stage_id)))
FROM e
WINDOW later AS (PARTITION BY e.lead_id ORDER BY e.at, e.move_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
       later_here AS (PARTITION BY e.lead_id, e.pipeline_id ORDER BY e.at, e.move_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING);

-- name: analytics-leads-counts
-- Per bucket $4 of [$2, $3): leads created, leads that entered a won (a lost) stage, the
-- value of those won; each lead once per bucket. $5 pipeline, $6 owner (0: all).
WITH e AS (
    SELECT width_bucket(x.at, $4::timestamptz[]) AS bucket, x.lead_id, bool_or(x.move_id = 0) AS created,
           bool_or(x.outcome = 'won') AS won, bool_or(x.outcome = 'lost') AS lost, max(x.value_cents) AS value_cents
    FROM analytics_lead_entries x
    WHERE x.org_id = $1 AND x.at >= $2 AND x.at < $3 AND ($5::bigint = 0 OR x.pipeline_id = $5) AND ($6::bigint = 0 OR x.owner_id = $6)
    GROUP BY 1, 2
)
SELECT e.bucket, count(*) FILTER (WHERE e.created) AS created, count(*) FILTER (WHERE e.won) AS won,
       count(*) FILTER (WHERE e.lost) AS lost, coalesce(sum(e.value_cents) FILTER (WHERE e.won), 0)::bigint AS won_value
FROM e
GROUP BY e.bucket;

-- name: analytics-leads-stages
-- Per bucket $5 of [$2, $3) and stage of pipeline $4: the leads that entered the stage, and
-- of those the leads that later (at any time) moved on (analytics_lead_entries.moved_on).
-- $6 owner (0: all).
SELECT width_bucket(x.at, $5::timestamptz[]) AS bucket, x.stage_id,
       count(DISTINCT x.lead_id) AS entered, count(DISTINCT x.lead_id) FILTER (WHERE x.moved_on) AS moved_on
FROM analytics_lead_entries x
JOIN stages s ON s.org_id = x.org_id AND s.id = x.stage_id
WHERE x.org_id = $1 AND s.pipeline_id = $4 AND x.at >= $2 AND x.at < $3 AND ($6::bigint = 0 OR x.owner_id = $6)
GROUP BY 1, 2;

-- name: analytics-leads-funnel
-- The leads created in [$2, $3) (pipeline $4, owner $5; 0: all); of those, the leads ever
-- past the first stage of their pipeline (analytics_lead_entries.past_first); of those, the
-- leads ever in a won stage.
WITH c AS (
    SELECT DISTINCT x.lead_id FROM analytics_lead_entries x
    WHERE x.org_id = $1 AND x.move_id = 0 AND x.at >= $2 AND x.at < $3 AND ($4::bigint = 0 OR x.pipeline_id = $4) AND ($5::bigint = 0 OR x.owner_id = $5)
)
SELECT count(*) AS created, count(*) FILTER (WHERE f.past_first) AS past_first, count(*) FILTER (WHERE f.won) AS won
FROM c
CROSS JOIN LATERAL (SELECT bool_or(n.past_first) AS past_first, bool_or(n.outcome = 'won') AS won
                    FROM analytics_lead_entries n WHERE n.org_id = $1 AND n.lead_id = c.lead_id) f;

-- name: analytics-first-pipeline
SELECT p.id FROM pipelines p WHERE p.org_id = $1 ORDER BY p.position, p.id LIMIT 1;

-- name: analytics-pipeline-stages
SELECT s.id, s.name, s.outcome FROM stages s WHERE s.org_id = $1 AND s.pipeline_id = $2 ORDER BY s.position, s.id;

-- name: analytics-campaigns-clear
DELETE FROM analytics_campaigns WHERE org_id = $1 AND campaign_id = ANY($2::bigint[]);

-- name: analytics-campaigns-compute
-- The funnels of launched campaigns $2, from their recipients (analytics_recipient_step:
-- the first four steps by status, the last two from the replies only).
INSERT INTO analytics_campaigns (org_id, campaign_id, channel_id, launched_at, sent, delivered, read, replied, lead, won)
SELECT c.org_id, c.id, c.channel_id, c.launched_at, f.sent, f.delivered, f.read, f.replied, l.lead, l.won
FROM campaigns c
CROSS JOIN LATERAL (
    SELECT count(*) AS sent,
           count(*) FILTER (WHERE analytics_recipient_status_step(x.status) >= 2) AS delivered,
           count(*) FILTER (WHERE analytics_recipient_status_step(x.status) >= 3) AS read,
           count(*) FILTER (WHERE analytics_recipient_status_step(x.status) >= 4) AS replied
    FROM campaign_recipients x
    WHERE x.org_id = c.org_id AND x.campaign_id = c.id AND x.status IN ('sent', 'delivered', 'answered', 'read', 'replied')
) f
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE r.step >= 5) AS lead, count(*) FILTER (WHERE r.step >= 6) AS won
    FROM (SELECT analytics_recipient_step(y.org_id, y.status, y.contact_id, c.launched_at) AS step
          FROM campaign_recipients y
          WHERE y.org_id = c.org_id AND y.campaign_id = c.id AND y.status = 'replied') r
) l
WHERE c.org_id = $1 AND c.id = ANY($2::bigint[]) AND c.launched_at IS NOT NULL;

-- name: analytics-campaigns-counts
-- Per bucket $4 of [$2, $3) (by launch), or per campaign when $7: the funnel of the
-- campaigns launched then. $5 campaign, $6 channel (0: all).
SELECT CASE WHEN $7 THEN 0 ELSE width_bucket(a.launched_at, $4::timestamptz[]) END AS bucket,
       CASE WHEN $7 THEN a.campaign_id ELSE 0 END AS key,
       CASE WHEN $7 THEN max(c.name) ELSE '' END AS label,
       sum(a.sent)::bigint AS sent, sum(a.delivered)::bigint AS delivered, sum(a.read)::bigint AS read,
       sum(a.replied)::bigint AS replied, sum(a.lead)::bigint AS lead, sum(a.won)::bigint AS won
FROM analytics_campaigns a
LEFT JOIN campaigns c ON c.org_id = a.org_id AND c.id = a.campaign_id
WHERE a.org_id = $1 AND a.launched_at >= $2 AND a.launched_at < $3 AND ($5::bigint = 0 OR a.campaign_id = $5) AND ($6::bigint = 0 OR a.channel_id = $6)
GROUP BY 1, 2
ORDER BY 1, max(a.launched_at) DESC, 2 DESC;

-- name: analytics-cadences-clear
-- A rebuild ($3 null) clears every zone's rows of the org.
DELETE FROM analytics_cadence_hours
WHERE org_id = $1 AND ($3::timestamptz[] IS NULL OR (zone = $2 AND hour = ANY($3::timestamptz[])));

-- name: analytics-cadences-compute
-- The local hours $3 of zone $2 (null: every hour) worked out from the enrolments that
-- began in them ($4, $5 bound them). An hour starts at a local hour of the zone: the
-- instant less its local minutes.
INSERT INTO analytics_cadence_hours (org_id, zone, hour, cadence_id, enrolled, replied, completed, exited)
SELECT $1, $2, h.hour, e.cadence_id, count(*),
       count(*) FILTER (WHERE e.status = 'exited' AND e.exit_reason = 'replied'),
       count(*) FILTER (WHERE e.status = 'completed'),
       count(*) FILTER (WHERE e.status = 'exited' AND e.exit_reason <> 'replied')
FROM cadence_enrolments e
CROSS JOIN LATERAL (SELECT date_trunc('minute', e.created_at)
                           - make_interval(mins => extract(minute FROM e.created_at AT TIME ZONE $2)::int) AS hour) h
WHERE e.org_id = $1 AND ($3::timestamptz[] IS NULL OR (e.created_at >= $4 AND e.created_at < $5 AND h.hour = ANY($3::timestamptz[])))
GROUP BY h.hour, e.cadence_id;

-- name: analytics-cadences-counts
-- Per bucket $5 of [$3, $4) of zone $2, or per cadence when $6: the enrolments that began
-- then, by how they stand now.
SELECT CASE WHEN $6 THEN 0 ELSE width_bucket(h.hour, $5::timestamptz[]) END AS bucket,
       CASE WHEN $6 THEN h.cadence_id ELSE 0 END AS key,
       CASE WHEN $6 THEN coalesce(max(c.name), '') ELSE '' END AS label,
       sum(h.enrolled)::bigint AS enrolled, sum(h.replied)::bigint AS replied,
       sum(h.completed)::bigint AS completed, sum(h.exited)::bigint AS exited
FROM analytics_cadence_hours h
LEFT JOIN cadences c ON c.org_id = h.org_id AND c.id = h.cadence_id
WHERE h.org_id = $1 AND h.zone = $2 AND h.hour >= $3 AND h.hour < $4
GROUP BY 1, 2
ORDER BY 1, sum(h.enrolled) DESC, 2;

-- name: analytics-calls-buckets
-- The calls figures per bucket $4 of [$2, $3) (an hour of a one-day period), with the
-- voice analytics' own rules (call-day-figures): answered counts voicemails (call_outcome),
-- the duration is the answered calls'. $5 campaign (0: all).
SELECT width_bucket(c.created_at, $4::timestamptz[]) AS bucket, count(*) AS calls,
       count(*) FILTER (WHERE call_outcome(c.status, c.disconnection_reason, c.in_voicemail) IN ('answered', 'voicemail')) AS answered,
       coalesce(sum(c.duration_ms) FILTER (WHERE call_outcome(c.status, c.disconnection_reason, c.in_voicemail) IN ('answered', 'voicemail')), 0)::bigint AS duration_ms,
       count(*) FILTER (WHERE c.successful) AS successful,
       coalesce(sum(c.cost_cents), 0)::float8 AS cost_cents
FROM calls c
WHERE c.org_id = $1 AND c.created_at >= $2 AND c.created_at < $3 AND ($5::bigint = 0 OR c.campaign_id = $5)
GROUP BY 1;

-- Drill-downs: the rows behind a figure, with the rollup's own predicates, so the list's
-- total is the figure. Every drill's WITH names its rows m (id, sub, at: the order and the
-- cursor; shown: the moment the row shows; title, detail, value, ref, ref2: what the list
-- shows and links to), and takes the cursor in $7 (at, null for the first page), $8 (id),
-- $9 (sub) and the page's size in $10.

-- name: analytics-drill-page
-- fragment: the page of m after the cursor, newest first, each row with the total of m (a
-- row of nulls when the page is empty, so the total still comes).
, p AS (
    SELECT m.* FROM m
    WHERE $7::timestamptz IS NULL OR (m.at, m.id, m.sub) < ($7::timestamptz, $8::bigint, $9::bigint)
    ORDER BY m.at DESC, m.id DESC, m.sub DESC
    LIMIT $10
)
SELECT (SELECT count(*) FROM m) AS total, p.id, p.sub, p.at, p.shown, p.title, p.detail, p.value, p.ref, p.ref2
FROM (SELECT 1) one LEFT JOIN p ON true
ORDER BY p.at DESC, p.id DESC, p.sub DESC;

-- name: analytics-leads-drill
-- The leads behind a leads figure of [$2, $3): $4 'created', 'won', 'lost', 'decided' (won
-- or lost) — pipeline $5, owner $6 (0: all) — or 'stage': each lead and open stage of
-- pipeline $5 it entered (stage $11, 0: every open stage), value 1 when it moved on. A lead shows the first time it counted in the period.
WITH m AS (
    SELECT x.lead_id AS id, CASE WHEN $4 = 'stage' THEN x.stage_id ELSE 0 END AS sub, min(x.at) AS at, min(x.at) AS shown,
           max(l.title) AS title, max(coalesce(s.name, '')) AS detail,
           CASE WHEN $4 = 'stage' THEN bool_or(x.moved_on)::int ELSE max(x.value_cents) END::float8 AS value,
           0::bigint AS ref, 0::bigint AS ref2
    FROM analytics_lead_entries x
    JOIN leads l ON l.org_id = x.org_id AND l.id = x.lead_id
    LEFT JOIN stages s ON s.org_id = x.org_id AND s.id = x.stage_id
    WHERE x.org_id = $1 AND x.at >= $2 AND x.at < $3 AND ($6::bigint = 0 OR x.owner_id = $6)
      AND CASE $4
          WHEN 'created' THEN x.move_id = 0 AND ($5::bigint = 0 OR x.pipeline_id = $5)
          WHEN 'won' THEN x.outcome = 'won' AND ($5::bigint = 0 OR x.pipeline_id = $5)
          WHEN 'lost' THEN x.outcome = 'lost' AND ($5::bigint = 0 OR x.pipeline_id = $5)
          WHEN 'decided' THEN x.outcome IN ('won', 'lost') AND ($5::bigint = 0 OR x.pipeline_id = $5)
          WHEN 'stage' THEN s.pipeline_id = $5 AND s.outcome = 'open' AND ($11::bigint = 0 OR s.id = $11)
          ELSE false END
    GROUP BY 1, 2
)
-- include: analytics-drill-page

-- name: analytics-campaigns-drill
-- The recipients behind a campaign figure: of the campaigns launched in [$2, $3) (campaign
-- $5, channel $6; 0: all), those whose analytics_recipient_step is at least $4.
WITH m AS (
    SELECT r.id, 0::bigint AS sub, c.launched_at AS at,
           coalesce(r.replied_at, r.read_at, r.delivered_at, r.sent_at, c.launched_at) AS shown,
           coalesce(nullif(r.name, ''), r.address) AS title, c.name AS detail, 0::float8 AS value, c.id AS ref, 0::bigint AS ref2
    FROM campaigns c
    JOIN campaign_recipients r ON r.org_id = c.org_id AND r.campaign_id = c.id
    WHERE c.org_id = $1 AND c.launched_at >= $2 AND c.launched_at < $3
      AND ($5::bigint = 0 OR c.id = $5) AND ($6::bigint = 0 OR c.channel_id = $6)
      AND r.status IN ('sent', 'delivered', 'answered', 'read', 'replied')
      AND analytics_recipient_status_step(r.status) >= least($4::int, 4)
      AND ($4::int <= 4 OR (r.status = 'replied' AND analytics_recipient_step(r.org_id, r.status, r.contact_id, c.launched_at) >= $4::int))
      AND $11::bigint = 0
)
-- include: analytics-drill-page

-- name: analytics-cadences-drill
-- The enrolments behind a cadence figure: begun in [$2, $3) (cadence $5; 0: all), $4
-- 'enrolled', 'replied', 'completed' or 'exited' (analytics-cadences-compute's rules).
WITH m AS (
    SELECT e.id, 0::bigint AS sub, e.created_at AS at, e.created_at AS shown,
           coalesce(nullif(ct.name, ''), ct.phone, '') AS title, k.name AS detail, 0::float8 AS value,
           e.cadence_id AS ref, 0::bigint AS ref2
    FROM cadence_enrolments e
    JOIN cadences k ON k.org_id = e.org_id AND k.id = e.cadence_id
    LEFT JOIN contacts ct ON ct.org_id = e.org_id AND ct.id = e.contact_id
    WHERE e.org_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND ($5::bigint = 0 OR e.cadence_id = $5)
      AND CASE $4
          WHEN 'enrolled' THEN true
          WHEN 'replied' THEN e.status = 'exited' AND e.exit_reason = 'replied'
          WHEN 'completed' THEN e.status = 'completed'
          WHEN 'exited' THEN e.status = 'exited' AND e.exit_reason <> 'replied'
          ELSE false END
      AND $6::bigint = 0 AND $11::bigint = 0
)
-- include: analytics-drill-page

-- name: analytics-calls-drill
-- The calls behind a calls figure: created in [$2, $3) (campaign $5; 0: all), $4 'all',
-- 'answered' (call-day-figures' rule), 'duration' (answered, value the seconds), 'cost'
-- (value the cents) or 'successful'.
WITH m AS (
    SELECT c.id, 0::bigint AS sub, c.created_at AS at, c.created_at AS shown,
           coalesce(nullif(ct.name, ''), CASE WHEN c.direction = 'outbound' THEN c.to_number ELSE c.from_number END, '') AS title,
           call_outcome(c.status, c.disconnection_reason, c.in_voicemail) AS detail,
           CASE $4 WHEN 'duration' THEN c.duration_ms / 1000.0 WHEN 'cost' THEN c.cost_cents ELSE 0 END::float8 AS value,
           coalesce(c.conversation_id, 0) AS ref, coalesce(c.contact_id, 0) AS ref2
    FROM calls c
    LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
    WHERE c.org_id = $1 AND c.created_at >= $2 AND c.created_at < $3 AND ($5::bigint = 0 OR c.campaign_id = $5)
      AND CASE $4
          WHEN 'answered' THEN call_outcome(c.status, c.disconnection_reason, c.in_voicemail) IN ('answered', 'voicemail')
          WHEN 'duration' THEN call_outcome(c.status, c.disconnection_reason, c.in_voicemail) IN ('answered', 'voicemail')
          WHEN 'successful' THEN coalesce(c.successful, false)
          ELSE true END
      AND $6::bigint = 0 AND $11::bigint = 0
)
-- include: analytics-drill-page
