-- Outgoing webhooks (app/hooks): endpoints, secrets, the dispatcher's fan-out, deliveries
-- and their attempts.

-- name: hook-endpoint-create
INSERT INTO webhook_endpoints (org_id, url, description, event_types, all_events, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, org_id, url, description, event_types, all_events, enabled, disabled_reason, disabled_at,
          failures, failing_since, open_until, created_at, updated_at;

-- name: hook-endpoint
SELECT id, org_id, url, description, event_types, all_events, enabled, disabled_reason, disabled_at,
       failures, failing_since, open_until, created_at, updated_at
FROM webhook_endpoints WHERE org_id = $1 AND id = $2;

-- name: hook-endpoints
-- An org's endpoints after a cursor (id), with their last day's attempts.
SELECT we.id, we.org_id, we.url, we.description, we.event_types, we.all_events, we.enabled, we.disabled_reason,
       we.disabled_at, we.failures, we.failing_since, we.open_until, we.created_at, we.updated_at,
       COALESCE(s.ok, 0) AS recent_ok, COALESCE(s.total, 0) AS recent_total
FROM webhook_endpoints we
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE a.ok) AS ok, count(*) AS total FROM webhook_attempts a
    WHERE a.org_id = we.org_id AND a.endpoint_id = we.id AND a.at > now() - interval '24 hours'
) s ON true
WHERE we.org_id = $1 AND we.id > $2
ORDER BY we.id LIMIT $3;

-- name: hook-endpoint-update
UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, all_events = $6, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING id, org_id, url, description, event_types, all_events, enabled, disabled_reason, disabled_at,
          failures, failing_since, open_until, created_at, updated_at;

-- name: hook-endpoint-set-enabled
-- Enabling starts afresh: no failures, the circuit closed.
UPDATE webhook_endpoints
SET enabled = $3, disabled_reason = CASE WHEN $3 THEN '' ELSE $4 END,
    disabled_at = CASE WHEN $3 THEN NULL ELSE now() END,
    failures = CASE WHEN $3 THEN 0 ELSE failures END,
    failing_since = CASE WHEN $3 THEN NULL ELSE failing_since END,
    open_until = CASE WHEN $3 THEN NULL ELSE open_until END, updated_at = now()
WHERE org_id = $1 AND id = $2 AND enabled <> $3
RETURNING id;

-- name: hook-endpoint-delete
DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2;

-- name: hook-endpoint-health
-- The circuit breaker's state after a run of attempts.
UPDATE webhook_endpoints SET failures = $3, failing_since = $4, open_until = $5
WHERE org_id = $1 AND id = $2;

-- name: hook-endpoint-wake
-- Claims the next wake-up of an endpoint's deliveries: true when no job is due sooner.
UPDATE webhook_endpoints SET wake_at = $3
WHERE org_id = $1 AND id = $2 AND (wake_at IS NULL OR wake_at <= now() OR wake_at > $3)
RETURNING id;

-- name: hook-secret-add
INSERT INTO webhook_secrets (org_id, endpoint_id, sealed) VALUES ($1, $2, $3);

-- name: hook-secrets-expire
-- A rotation: every secret still valid expires at $3 (or sooner, if it already would).
UPDATE webhook_secrets SET expires_at = LEAST(COALESCE(expires_at, $3), $3)
WHERE org_id = $1 AND endpoint_id = $2 AND (expires_at IS NULL OR expires_at > now());

-- name: hook-secrets-active
-- The secrets a delivery is signed with, newest first.
SELECT id, sealed, expires_at FROM webhook_secrets
WHERE org_id = $1 AND endpoint_id = $2 AND (expires_at IS NULL OR expires_at > now())
ORDER BY id DESC;

-- name: hook-any-enabled
-- cross-org: whether any org has an enabled endpoint (none: the dispatcher only keeps its
-- cursor up with the outbox, once a second, instead of waking on every event).
SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled);

-- name: hook-cursor-lock
-- One dispatcher at a time, across instances: the others give way at once. An advisory
-- lock, not a row lock: waiting here takes no transaction id, so it holds back no one's
-- snapshot horizon (which the dispatcher itself reads up to).
SELECT pg_try_advisory_xact_lock(7263001);

-- name: hook-dispatch
-- cross-org: the dispatcher takes the next events of every org, in commit order, up to the
-- oldest transaction still running (nothing can commit behind the cursor), and fans each
-- out to its own org's endpoints that want it: one delivery per (endpoint, event).
-- It answers one row per endpoint that got deliveries, and a last row (0, 0) with the
-- number of events read and whether more are waiting behind a running transaction.
WITH cur AS (SELECT tx, id FROM webhook_cursor),
ev AS (
    SELECT e.id, e.org_id, e.type, e.payload, e.created_at, e.tx FROM events e, cur
    WHERE (e.tx, e.id) > (cur.tx, cur.id) AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.tx, e.id LIMIT $1
),
last AS (SELECT tx, id FROM ev ORDER BY tx DESC, id DESC LIMIT 1),
moved AS (UPDATE webhook_cursor c SET tx = last.tx, id = last.id FROM last RETURNING c.id),
ins AS (
    INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, msg_id, event_type, payload, event_at)
    SELECT ev.org_id, we.id, ev.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), ev.type, ev.payload, ev.created_at
    FROM ev JOIN webhook_endpoints we ON we.org_id = ev.org_id
    WHERE we.enabled AND (we.all_events OR ev.type = ANY (we.event_types))
    ORDER BY ev.tx, ev.id
    ON CONFLICT (endpoint_id, event_id) DO NOTHING
    RETURNING org_id, endpoint_id
)
SELECT org_id, endpoint_id, count(*) AS n FROM ins GROUP BY org_id, endpoint_id
UNION ALL
SELECT 0, 0, (SELECT count(*) FROM ev) + CASE WHEN EXISTS (
    SELECT 1 FROM events e, cur WHERE (e.tx, e.id) > (cur.tx, cur.id) AND e.tx >= pg_snapshot_xmin(pg_current_snapshot())
) THEN 1000000000 ELSE 0 END;

-- name: hook-delivery-test
-- A test ping: delivered at once, outside the outbox, logged like the others.
INSERT INTO webhook_deliveries (org_id, endpoint_id, msg_id, event_type, payload, event_at, lease_until)
VALUES ($1, $2, 'msg_' || replace(gen_random_uuid()::text, '-', ''), $3, $4, now(), now() + interval '1 minute')
RETURNING id, org_id, endpoint_id, msg_id, event_type, payload, event_at, state, attempts, next_at,
          last_status, last_error, created_at, updated_at;

-- name: hook-claim
-- Takes up to $3 of an endpoint's due deliveries for $4 (another worker skips them).
UPDATE webhook_deliveries d SET lease_until = now() + $4::interval
FROM (
    SELECT id FROM webhook_deliveries
    WHERE org_id = $1 AND endpoint_id = $2 AND state = 'pending' AND next_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
) c
WHERE d.org_id = $1 AND d.id = c.id
RETURNING d.id, d.org_id, d.endpoint_id, d.msg_id, d.event_type, d.payload, d.event_at, d.state, d.attempts,
          d.next_at, d.last_status, d.last_error, d.created_at, d.updated_at;

-- name: hook-record
-- The attempts of a run: each logged, and its delivery moved on (delivered, failed, or
-- pending again at its next time).
WITH r AS (
    SELECT * FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::int[], $7::boolean[], $8::text[],
                         $9::timestamptz[], $10::timestamptz[])
        AS r(id, status, error, body, duration_ms, ok, state, next_at, at)
),
a AS (
    INSERT INTO webhook_attempts (org_id, endpoint_id, delivery_id, at, status, error, body, duration_ms, ok)
    SELECT $1, $11, r.id, r.at, r.status, r.error, r.body, r.duration_ms, r.ok FROM r
)
UPDATE webhook_deliveries d
SET state = r.state, attempts = d.attempts + 1, next_at = r.next_at, lease_until = NULL,
    last_status = r.status, last_error = r.error, updated_at = now()
FROM r WHERE d.org_id = $1 AND d.id = r.id;

-- name: hook-release
-- Deliveries claimed but not sent (the circuit opened): due again at $4.
UPDATE webhook_deliveries SET lease_until = NULL, next_at = $4
WHERE org_id = $1 AND endpoint_id = $2 AND id = ANY ($3::bigint[]) AND state = 'pending';

-- name: hook-next-due
-- Not counting those another worker is sending (it wakes them itself).
SELECT min(next_at) FROM webhook_deliveries
WHERE org_id = $1 AND endpoint_id = $2 AND state = 'pending' AND (lease_until IS NULL OR lease_until < now());

-- name: hook-fail-pending
-- The endpoint was disabled: what was still to send fails (a replay sends it again).
UPDATE webhook_deliveries SET state = 'failed', last_error = $3, lease_until = NULL, updated_at = now()
WHERE org_id = $1 AND endpoint_id = $2 AND state = 'pending';

-- name: hook-stale
-- cross-org: the sweep finds endpoints whose due deliveries no job is sending (a job lost
-- with its process), to wake them.
SELECT DISTINCT org_id, endpoint_id FROM webhook_deliveries
WHERE state = 'pending' AND next_at < now() - interval '10 seconds' AND (lease_until IS NULL OR lease_until < now())
LIMIT 1000;

-- name: hook-delivery
SELECT id, org_id, endpoint_id, msg_id, event_type, payload, event_at, state, attempts, next_at,
       last_status, last_error, created_at, updated_at
FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 AND id = $3;

-- name: hook-deliveries
-- An endpoint's log, newest first, after a cursor ($5: an id, 0 for the first page),
-- filtered by state and event type ('' for any).
SELECT id, org_id, endpoint_id, msg_id, event_type, payload, event_at, state, attempts, next_at,
       last_status, last_error, created_at, updated_at
FROM webhook_deliveries
WHERE org_id = $1 AND endpoint_id = $2 AND ($3 = '' OR state = $3) AND ($4 = '' OR event_type = $4)
  AND ($5 = 0 OR id < $5)
ORDER BY id DESC LIMIT $6;

-- name: hook-attempts
SELECT id, delivery_id, at, status, error, body, duration_ms, ok FROM webhook_attempts
WHERE org_id = $1 AND delivery_id = ANY ($2::bigint[]) ORDER BY id DESC;

-- name: hook-replay
-- Sends a delivery again (new attempts, same webhook-id), starting the back-off afresh.
UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = now(), lease_until = NULL, updated_at = now()
WHERE org_id = $1 AND endpoint_id = $2 AND id = $3 AND (state <> 'pending' OR lease_until IS NULL OR lease_until < now())
RETURNING id;

-- name: hook-replay-range
-- Every delivery of an endpoint created in [$3, $4) not being sent right now, again.
UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = now(), lease_until = NULL, updated_at = now()
WHERE org_id = $1 AND endpoint_id = $2 AND created_at >= $3 AND created_at < $4
  AND (state <> 'pending' OR lease_until IS NULL OR lease_until < now());

-- name: hook-secrets-all
-- cross-org: a key rotation re-seals every org's webhook secrets.
SELECT id, org_id, endpoint_id, sealed FROM webhook_secrets ORDER BY id;

-- name: hook-secret-reseal
-- Only if unchanged since read (a rotation of the endpoint's secret meanwhile wins).
UPDATE webhook_secrets SET sealed = $4 WHERE org_id = $1 AND id = $2 AND sealed = $3;

-- name: hook-deliveries-delete-old
-- cross-org: the delivery log keeps $1 (30 days) of every org's finished deliveries.
DELETE FROM webhook_deliveries WHERE state <> 'pending' AND updated_at < now() - $1::interval;
