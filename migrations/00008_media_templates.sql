-- Media files (inbound downloads and outbound attachments) kept in blob storage, and the
-- WhatsApp message templates of each channel, synced from the WhatsApp Business Account.

-- +goose Up
CREATE TABLE media (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    -- The blob key: the org id and a random part, never guessable from another org.
    key         text NOT NULL UNIQUE,
    mime        text NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    filename    text NOT NULL DEFAULT '',
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- A file stored twice (a download job retried) is found by its hash and kept once.
CREATE INDEX media_org_hash ON media (org_id, sha256);

CREATE TABLE message_templates (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    channel_id  bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    provider_id text NOT NULL DEFAULT '',
    name        text NOT NULL,
    language    text NOT NULL,
    category    text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT '',
    components  jsonb NOT NULL DEFAULT '[]',
    synced_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, name, language)
);
CREATE INDEX message_templates_org ON message_templates (org_id, channel_id, name);

-- The last template sync of a channel: when, and what went wrong if it failed.
CREATE TABLE template_syncs (
    channel_id  bigint PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    synced_at   timestamptz,
    error       text NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE template_syncs, message_templates, media;
