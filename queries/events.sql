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
