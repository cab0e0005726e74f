-- name: event-insert
INSERT INTO events (org_id, type, payload) VALUES ($1, $2, $3) RETURNING id, created_at;

-- name: event-notify
-- Delivered to every instance's listener when the transaction commits, not before.
SELECT pg_notify('masteria_events', $1);

-- name: event-by-id
SELECT id, org_id, type, payload, created_at FROM events WHERE org_id = $1 AND id = $2;

-- name: events-since
SELECT id, org_id, type, payload, created_at FROM events
WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: events-delete-old
-- cross-org: retention applies to every org alike.
DELETE FROM events WHERE created_at < now() - $1::interval;

-- name: events-insert-many
-- Many events of one type at once (a campaign batch's recipients), each announced when the
-- transaction commits, in one statement.
WITH ins AS (
    INSERT INTO events (org_id, type, payload) SELECT $1, $2, unnest($3::jsonb[]) RETURNING id, org_id
)
SELECT count(pg_notify('masteria_events', json_build_object('id', id, 'org_id', org_id)::text)) FROM ins;
