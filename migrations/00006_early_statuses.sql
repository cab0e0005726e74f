-- Status reports that arrive before the send job has stored the provider's id (Meta can
-- post "sent" while our request is still returning). They wait here and are applied the
-- moment the id is stored, instead of being lost.

-- +goose Up
CREATE TABLE early_statuses (
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    channel_id  bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    provider_id text NOT NULL,
    status      text NOT NULL,
    error_code  text NOT NULL DEFAULT '',
    error_title text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, provider_id, status)
);
CREATE INDEX early_statuses_created ON early_statuses (created_at);

-- +goose Down
DROP TABLE early_statuses;
