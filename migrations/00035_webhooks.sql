-- Outgoing webhooks (app/hooks): an org's endpoints, their signing secrets (sealed by
-- app/vault), one delivery per (endpoint, event) and every attempt of it.
--
-- The dispatcher follows the events outbox in commit order: each event records the
-- transaction that wrote it (xid8), and the dispatcher reads only events of transactions
-- older than every transaction still running, by (tx, id) after its cursor. A transaction
-- that commits late can then never slip behind the cursor, as an id-only cursor would let it.

-- +goose Up
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_tx ON events (tx, id);

CREATE TABLE webhook_endpoints (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    url             text NOT NULL CHECK (length(url) <= 2000),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- The event types it wants; all_events: every event of the catalogue, new ones too.
    event_types     text[] NOT NULL DEFAULT '{}',
    all_events      boolean NOT NULL DEFAULT false,
    enabled         boolean NOT NULL DEFAULT true,
    -- Why it was disabled: '' (enabled), 'manual', 'gone' (the receiver answered 410) or
    -- 'failing' (every attempt failed for days).
    disabled_reason text NOT NULL DEFAULT '',
    disabled_at     timestamptz,
    -- Circuit breaker: failures in a row, and until when deliveries wait (then one probes).
    failures        int NOT NULL DEFAULT 0,
    failing_since   timestamptz,
    open_until      timestamptz,
    -- When a delivery job is already scheduled for it, so retries schedule one job each time.
    wake_at         timestamptz,
    created_by      bigint REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);

-- Signing secrets: the current one (expires_at NULL) and, after a rotation, the previous
-- one until it expires. A delivery is signed with every secret not yet expired.
CREATE TABLE webhook_secrets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    endpoint_id bigint NOT NULL,
    sealed      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    FOREIGN KEY (org_id, endpoint_id) REFERENCES webhook_endpoints (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (endpoint_id, id);

-- Where the dispatcher is in the events outbox (one row: a global cursor).
CREATE TABLE webhook_cursor (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    tx      xid8 NOT NULL,
    id      bigint NOT NULL
);
INSERT INTO webhook_cursor (tx, id) VALUES ('0'::xid8, 0);

-- One delivery per (endpoint, event): its webhook-id (msg_…) stays the same on every attempt.
-- state: pending (to send, at next_at), delivered, failed (gave up, or the endpoint was
-- disabled). lease_until: a worker is sending it.
CREATE TABLE webhook_deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    endpoint_id bigint NOT NULL,
    event_id    bigint,
    msg_id      text NOT NULL UNIQUE,
    event_type  text NOT NULL,
    payload     jsonb NOT NULL,
    event_at    timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts    int NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_status int,
    last_error  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, endpoint_id) REFERENCES webhook_endpoints (org_id, id) ON DELETE CASCADE,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (org_id, endpoint_id, id DESC);

-- Every attempt of a delivery: when, how long, the answer's code (0: no answer) or the
-- error, and the start of the answer's body.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    endpoint_id bigint NOT NULL,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    status      int NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    body        text NOT NULL DEFAULT '',
    duration_ms int NOT NULL DEFAULT 0,
    ok          boolean NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
CREATE INDEX webhook_attempts_recent ON webhook_attempts (endpoint_id, at);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_cursor;
DROP TABLE webhook_secrets;
DROP TABLE webhook_endpoints;
DROP INDEX events_tx;
ALTER TABLE events DROP COLUMN tx;
