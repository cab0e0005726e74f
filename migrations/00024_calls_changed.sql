-- The minute job that keeps the calls' daily figures up to date asks which orgs had calls
-- changed lately (call-stats-orgs, across orgs). calls_org_updated leads with org_id, so
-- that question read every call (a sequential scan: 19–29 ms at 100,000 calls); this index
-- leads with the time and carries the org, so only the calls changed since are read
-- (0.14 ms), from the index alone once the table is vacuumed.

-- +goose Up
CREATE INDEX calls_updated_org ON calls (updated_at, org_id);

-- +goose Down
DROP INDEX calls_updated_org;
