-- The conversations family of the metric engine (app/analytics/conversations.go): cases,
-- worked out in Go from a conversation's messages and its log, kept in analytics_cases.

-- name: analytics-case-conversations
-- The conversations whose cases are worked out again ($2; all of the org when empty).
SELECT id, channel_id, coalesce(assignee_id, 0) AS assignee_id, labels::text[] AS labels
FROM conversations WHERE org_id = $1 AND (coalesce(cardinality($2::bigint[]), 0) = 0 OR id = ANY($2::bigint[]))
ORDER BY id;

-- name: analytics-case-messages
-- Their customers' messages and their replies, in order, with what each counts as.
SELECT conversation_id, id, direction, source, created_at
FROM analytics_message_facts WHERE org_id = $1 AND conversation_id = ANY($2::bigint[])
ORDER BY conversation_id, created_at, id;

-- name: analytics-case-log
SELECT conversation_id, at, status, owner, coalesce(assignee_id, 0) AS assignee_id,
       coalesce(old_status, '') AS old_status, coalesce(old_owner, '') AS old_owner
FROM conversation_log WHERE org_id = $1 AND conversation_id = ANY($2::bigint[])
ORDER BY conversation_id, at, id;

-- name: analytics-cases-delete
DELETE FROM analytics_cases WHERE org_id = $1 AND (coalesce(cardinality($2::bigint[]), 0) = 0 OR conversation_id = ANY($2::bigint[]));

-- name: analytics-cases-insert
INSERT INTO analytics_cases (org_id, conversation_id, started_at, channel_id, assignee_id, labels, first_reply_at,
    first_response_s, first_response_bs, resolved_at, resolution_s, resolution_bs, bot_replied, person_replies, handover_at)
SELECT $1, u.conversation_id, u.started_at, u.channel_id, u.assignee_id, coalesce(l.labels, '{}'), u.first_reply_at,
       u.first_response_s, u.first_response_bs, u.resolved_at, u.resolution_s, u.resolution_bs, u.bot_replied,
       u.person_replies, u.handover_at
FROM unnest($2::bigint[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::timestamptz[], $7::int[], $8::int[],
            $9::timestamptz[], $10::int[], $11::int[], $12::boolean[], $13::int[], $14::timestamptz[])
     AS u(conversation_id, started_at, channel_id, assignee_id, first_reply_at, first_response_s, first_response_bs,
          resolved_at, resolution_s, resolution_bs, bot_replied, person_replies, handover_at)
LEFT JOIN conversations l ON l.id = u.conversation_id AND l.org_id = $1;

-- name: analytics-case-buckets
-- The period's case figures by bucket ($10: the buckets' starts), each by its own moment:
-- "start" by the case's start, "resolved" by its close, "handover" by its first hand-over.
-- $4 channel, $5 agent (assignee), $6 label, $7 campaign (0 or '': all), $8 business hours,
-- $9 the first-response target in seconds (0: none), $11 one row per assignee. Each part
-- reads its own index range.
SELECT 'start' AS by, width_bucket(started_at, $10::timestamptz[]) AS bucket,
       CASE WHEN $11 THEN assignee_id ELSE -1 END AS assignee_id,
       count(*) AS n, count(*) FILTER (WHERE bot_replied) AS bot,
       count(first_reply_at) AS responded,
       count(*) FILTER (WHERE $9 > 0 AND CASE WHEN $8 THEN first_response_bs ELSE first_response_s END <= $9) AS within,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN $8 THEN first_response_bs ELSE first_response_s END) AS first_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN $8 THEN first_response_bs ELSE first_response_s END) AS first_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN $8 THEN resolution_bs ELSE resolution_s END) AS resolution_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN $8 THEN resolution_bs ELSE resolution_s END) AS resolution_p90
FROM analytics_cases
WHERE org_id = $1 AND started_at >= $2 AND started_at < $3
  AND ($4 = 0 OR channel_id = $4) AND ($5 = 0 OR assignee_id = $5) AND ($6 = '' OR labels @> ARRAY[$6::text])
  AND ($7 = 0 OR conversation_id IN (
      SELECT m.conversation_id FROM campaign_recipients r JOIN messages m ON m.id = r.message_id AND m.org_id = $1
      WHERE r.org_id = $1 AND r.campaign_id = $7))
GROUP BY 2, 3
UNION ALL
SELECT 'resolved', width_bucket(resolved_at, $10::timestamptz[]), CASE WHEN $11 THEN assignee_id ELSE -1 END,
       count(*), count(*) FILTER (WHERE bot_replied AND person_replies = 0), 0, 0, NULL, NULL, NULL, NULL
FROM analytics_cases
WHERE org_id = $1 AND resolved_at >= $2 AND resolved_at < $3
  AND ($4 = 0 OR channel_id = $4) AND ($5 = 0 OR assignee_id = $5) AND ($6 = '' OR labels @> ARRAY[$6::text])
  AND ($7 = 0 OR conversation_id IN (
      SELECT m.conversation_id FROM campaign_recipients r JOIN messages m ON m.id = r.message_id AND m.org_id = $1
      WHERE r.org_id = $1 AND r.campaign_id = $7))
GROUP BY 2, 3
UNION ALL
SELECT 'handover', width_bucket(handover_at, $10::timestamptz[]), CASE WHEN $11 THEN assignee_id ELSE -1 END,
       count(*), 0, 0, 0, NULL, NULL, NULL, NULL
FROM analytics_cases
WHERE org_id = $1 AND handover_at >= $2 AND handover_at < $3
  AND ($4 = 0 OR channel_id = $4) AND ($5 = 0 OR assignee_id = $5) AND ($6 = '' OR labels @> ARRAY[$6::text])
  AND ($7 = 0 OR conversation_id IN (
      SELECT m.conversation_id FROM campaign_recipients r JOIN messages m ON m.id = r.message_id AND m.org_id = $1
      WHERE r.org_id = $1 AND r.campaign_id = $7))
GROUP BY 2, 3;

-- name: analytics-conversations-now
-- The figures of the present moment: open conversations, those whose customer wrote last
-- and that no bot is answering, those with nobody on them.
SELECT count(*) AS open,
       count(*) FILTER (WHERE owner <> 'bot' AND last_inbound_at >= last_message_at) AS waiting,
       count(*) FILTER (WHERE assignee_id IS NULL) AS unassigned
FROM conversations
WHERE org_id = $1 AND status = 'open' AND ($2 = 0 OR channel_id = $2) AND ($3 = 0 OR assignee_id = $3)
  AND ($4 = '' OR labels @> ARRAY[$4::text])
  AND ($5 = 0 OR id IN (
      SELECT m.conversation_id FROM campaign_recipients r JOIN messages m ON m.id = r.message_id AND m.org_id = $1
      WHERE r.org_id = $1 AND r.campaign_id = $5));

-- name: analytics-case-drill
-- fragment: the cases behind a figure; the store adds the figure's predicate, the filters
-- and the keyset. $1 org.
SELECT a.conversation_id, a.started_at, a.resolved_at, a.handover_at, a.first_response_s, a.first_response_bs,
       a.resolution_s, a.resolution_bs, c.name AS contact_name
FROM analytics_cases a
JOIN conversations v ON v.id = a.conversation_id AND v.org_id = $1
JOIN contacts c ON c.id = v.contact_id AND c.org_id = $1
WHERE a.org_id = $1

-- name: analytics-case-drill-count
-- fragment: how many cases the drill-down lists.
SELECT count(*) FROM analytics_cases a WHERE a.org_id = $1

-- name: analytics-conversation-drill
-- fragment: the open conversations behind a figure of the present moment.
SELECT v.id AS conversation_id, v.last_message_at, c.name AS contact_name
FROM conversations v JOIN contacts c ON c.id = v.contact_id AND c.org_id = $1
WHERE v.org_id = $1 AND v.status = 'open'

-- name: analytics-conversation-drill-count
-- fragment: how many open conversations the drill-down lists.
SELECT count(*) FROM conversations v WHERE v.org_id = $1 AND v.status = 'open'

-- name: analytics-cases-mark-all
-- A rebuild of every case of the org (a new zone, new business hours) as one mark per
-- conversation, which the next catch-up rounds work out a few thousand at a time: one
-- transaction over every conversation of a large org would outlast the job's time.
INSERT INTO analytics_dirty (org_id, kind, key)
SELECT org_id, 'cases', id FROM conversations WHERE org_id = $1;

-- name: analytics-cases-orphans-delete
-- Cases whose conversation is gone.
DELETE FROM analytics_cases a
WHERE a.org_id = $1 AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.org_id = $1 AND v.id = a.conversation_id);
