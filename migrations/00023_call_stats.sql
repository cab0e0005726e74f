-- The calls analytics reads a day's figures from call_stats_daily instead of every call of
-- the period: one row per (org, time zone, day) with the day's totals (dim 'total'), and one
-- per agent, number and campaign of that day. A day is worked out again when it has no row
-- yet or when one of its calls changed after its row was computed (calls_org_updated finds
-- those quickly), so late events and new calls show up at the next view.

-- +goose Up
CREATE TABLE call_stats_daily (
    org_id       bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    zone         text NOT NULL,
    day          date NOT NULL,
    dim          text NOT NULL CHECK (dim IN ('total', 'agent', 'number', 'campaign')),
    key          text NOT NULL,
    label        text NOT NULL DEFAULT '',
    calls        bigint NOT NULL DEFAULT 0,
    answered     bigint NOT NULL DEFAULT 0,
    voicemail    bigint NOT NULL DEFAULT 0,
    duration_ms  bigint NOT NULL DEFAULT 0,
    analysed     bigint NOT NULL DEFAULT 0,
    successful   bigint NOT NULL DEFAULT 0,
    positive     bigint NOT NULL DEFAULT 0,
    neutral      bigint NOT NULL DEFAULT 0,
    negative     bigint NOT NULL DEFAULT 0,
    cost_cents   double precision NOT NULL DEFAULT 0,
    computed_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, zone, day, dim, key)
);
CREATE INDEX calls_org_updated ON calls (org_id, updated_at);

-- +goose Down
DROP INDEX calls_org_updated;
DROP TABLE call_stats_daily;
