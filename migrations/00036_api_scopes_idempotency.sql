-- The REST API's keys get scopes, and its POSTs an Idempotency-Key.
--
-- api_keys.scope: what a key may do, space-separated as in OAuth ("read", or
-- "contacts:write board:read"); empty is every area, read and write (keys made before).
--
-- api_idempotency: the first answer to a POST sent with an Idempotency-Key, kept a day, so a
-- repeat (a client's retry after a timeout) answers it again and does nothing twice. status
-- is NULL while the first request runs; a request_hash other than the first's is a misuse.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT '';

CREATE TABLE api_idempotency (
    org_id       bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    idem_key     text NOT NULL,
    key_id       bigint NOT NULL REFERENCES api_keys ON DELETE CASCADE,
    request_hash bytea NOT NULL,
    status       int,
    content_type text NOT NULL DEFAULT '',
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, idem_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- +goose Down
DROP TABLE api_idempotency;
ALTER TABLE api_keys DROP COLUMN scope;
