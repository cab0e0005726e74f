-- The metric engine's rollups (app/analytics) are kept by a River job, not worked out per
-- request. A write to a table a figure is made of leaves a mark here, from a statement-level
-- trigger of that table (one mark per bucket or key a statement touched, however many rows);
-- the rollup job takes the marks and works out those buckets again from the source rows.
-- The table has no unique key on purpose: concurrent writers never wait on each other's
-- marks; the job folds duplicates.

-- +goose Up
CREATE TABLE analytics_dirty (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    -- The rollup that works the mark out (app/analytics: a rollup's Kind).
    kind       text NOT NULL,
    -- The rollup's own key (a conversation, a campaign…), 0 when it has none.
    key        bigint NOT NULL DEFAULT 0,
    -- The moment whose bucket changed, when the rollup has time buckets.
    at         timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE analytics_dirty;
