-- The messages family of the metric engine (app/analytics/messages.go). Its rollup,
-- analytics_message_hours, counts analytics_message_facts (migration 00038) per local hour of
-- the org's zone; every reader takes the rows of the org's current zone only.

-- name: analytics-message-hours-delete
-- The local hours that UTC hours $3 touch (two when the zone is not a whole number of hours
-- off UTC), before they are counted again.
DELETE FROM analytics_message_hours
WHERE org_id = $1 AND zone = $2 AND hour IN (
    SELECT DISTINCT date_trunc('hour', (a + o) AT TIME ZONE $2)
    FROM unnest($3::timestamptz[]) AS a, unnest(ARRAY[interval '0', interval '59 minutes 59 seconds']) AS o);

-- name: analytics-message-hours-count
-- The local hours of UTC hours $3 counted again from the messages.
INSERT INTO analytics_message_hours (org_id, zone, hour, channel_id, agent_id, source, campaign_id,
                                     total, sent, delivered, read, failed, cost_cents)
SELECT $1, $2, h.hour, f.channel_id, f.agent_id, f.source, f.campaign_id, count(*),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status IN ('sent', 'delivered', 'read', 'failed')),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status IN ('delivered', 'read')),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status = 'read'),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status = 'failed'),
       coalesce(sum(f.cost_cents), 0)
FROM (SELECT DISTINCT date_trunc('hour', (a + o) AT TIME ZONE $2) AS hour
      FROM unnest($3::timestamptz[]) AS a, unnest(ARRAY[interval '0', interval '59 minutes 59 seconds']) AS o) h
JOIN analytics_message_facts f ON f.org_id = $1
    AND f.created_at >= (h.hour AT TIME ZONE $2) - interval '1 hour' AND f.created_at < (h.hour AT TIME ZONE $2) + interval '2 hours'
    AND date_trunc('hour', f.created_at AT TIME ZONE $2) = h.hour
GROUP BY h.hour, f.channel_id, f.agent_id, f.source, f.campaign_id;

-- name: analytics-message-hours-clear
-- Every hour of the org, in any zone, before a rebuild (a new zone).
DELETE FROM analytics_message_hours WHERE org_id = $1;

-- name: analytics-message-hours-rebuild
INSERT INTO analytics_message_hours (org_id, zone, hour, channel_id, agent_id, source, campaign_id,
                                     total, sent, delivered, read, failed, cost_cents)
SELECT $1, $2, date_trunc('hour', f.created_at AT TIME ZONE $2), f.channel_id, f.agent_id, f.source, f.campaign_id, count(*),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status IN ('sent', 'delivered', 'read', 'failed')),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status IN ('delivered', 'read')),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status = 'read'),
       count(*) FILTER (WHERE f.direction = 'out' AND f.status = 'failed'),
       coalesce(sum(f.cost_cents), 0)
FROM analytics_message_facts f WHERE f.org_id = $1
GROUP BY 3, f.channel_id, f.agent_id, f.source, f.campaign_id;

-- name: analytics-message-buckets
-- The period's counts by bucket ($3: the buckets' local starts, the first at $4), channel
-- and sender. $5 end of the period (local), $6 channel, $7 agent, $8 campaign (0: all).
SELECT width_bucket(hour, $3::timestamp[]) AS bucket, channel_id, agent_id,
       coalesce(sum(sent), 0) AS sent, coalesce(sum(delivered), 0) AS delivered, coalesce(sum(read), 0) AS read,
       coalesce(sum(failed), 0) AS failed,
       coalesce(sum(total) FILTER (WHERE source = 'inbound'), 0) AS inbound,
       coalesce(sum(total) FILTER (WHERE source = 'person'), 0) AS replies,
       coalesce(sum(cost_cents) FILTER (WHERE source = 'bot'), 0)::float8 AS cost_cents
FROM analytics_message_hours
WHERE org_id = $1 AND zone = $2 AND hour >= $4::timestamp AND hour < $5::timestamp
  AND ($6 = 0 OR channel_id = $6) AND ($7 = 0 OR agent_id = $7) AND ($8 = 0 OR campaign_id = $8)
GROUP BY 1, 2, 3;

-- name: analytics-message-buckets-label
-- The same counts for the conversations carrying label $9, read from the messages (the
-- rollup has no labels: a label narrows the messages to few conversations).
SELECT width_bucket(date_trunc('hour', f.created_at AT TIME ZONE $2), $3::timestamp[]) AS bucket, f.channel_id, f.agent_id,
       count(*) FILTER (WHERE f.direction = 'out' AND f.status IN ('sent', 'delivered', 'read', 'failed')) AS sent,
       count(*) FILTER (WHERE f.direction = 'out' AND f.status IN ('delivered', 'read')) AS delivered,
       count(*) FILTER (WHERE f.direction = 'out' AND f.status = 'read') AS read,
       count(*) FILTER (WHERE f.direction = 'out' AND f.status = 'failed') AS failed,
       count(*) FILTER (WHERE f.source = 'inbound') AS inbound,
       count(*) FILTER (WHERE f.source = 'person') AS replies,
       coalesce(sum(f.cost_cents) FILTER (WHERE f.source = 'bot'), 0)::float8 AS cost_cents
FROM analytics_message_facts f
JOIN conversations v ON v.id = f.conversation_id AND v.org_id = $1 AND v.labels @> ARRAY[$9::text]
WHERE f.org_id = $1 AND f.created_at >= $4::timestamp AT TIME ZONE $2 AND f.created_at < $5::timestamp AT TIME ZONE $2
  AND ($6 = 0 OR f.channel_id = $6) AND ($7 = 0 OR f.agent_id = $7) AND ($8 = 0 OR f.campaign_id = $8)
GROUP BY 1, 2, 3;

-- name: analytics-message-drill
-- fragment: the messages behind a figure; the store adds the figure's predicate, the
-- filters and the keyset. $1 org, $2 from, $3 to.
SELECT f.id, f.conversation_id, f.channel_id, f.direction, f.status, f.source, f.created_at, f.body,
       f.cost_cents::float8 AS cost_cents, c.name AS contact_name
FROM analytics_message_facts f
JOIN conversations v ON v.id = f.conversation_id AND v.org_id = $1
JOIN contacts c ON c.id = v.contact_id AND c.org_id = $1
WHERE f.org_id = $1 AND f.created_at >= $2 AND f.created_at < $3

-- name: analytics-message-drill-count
-- fragment: how many messages the drill-down lists.
SELECT count(*) FROM analytics_message_facts f
JOIN conversations v ON v.id = f.conversation_id AND v.org_id = $1
WHERE f.org_id = $1 AND f.created_at >= $2 AND f.created_at < $3
