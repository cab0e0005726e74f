-- name: analytics-take-marks
-- cross-org: the rollup job works every org's marks. Takes (and deletes) the oldest marks,
-- skipping those another instance holds; the transaction that took them recomputes them, so
-- a failure puts them back.
DELETE FROM analytics_dirty
WHERE id IN (SELECT id FROM analytics_dirty ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING org_id, kind, key, at;

-- name: analytics-lock
-- One recompute of a rollup of an org at a time, so an older snapshot never commits after a
-- newer one.
SELECT pg_advisory_xact_lock(hashtextextended('analytics:' || $2 || ':' || $1::text, 0));

-- name: analytics-mark
-- A mark written by code rather than a trigger (a whole rebuild, a setting that changes
-- how figures are counted).
INSERT INTO analytics_dirty (org_id, kind, key, at) VALUES ($1, $2, $3, $4);
