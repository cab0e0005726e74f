-- Channels (WhatsApp Cloud API, WhatsApp by QR, Twilio SMS, the demo sandbox) and the shared
-- inbox: conversations between an org and a contact on a channel, and their messages.

-- +goose Up
CREATE TABLE channels (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('whatsapp_cloud', 'whatsapp_qr', 'twilio_sms', 'sandbox')),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    -- Settings that are not secret (phone number id, WABA id, sender number…).
    config      jsonb NOT NULL DEFAULT '{}',
    -- Tokens and secrets, sealed by app/vault with this row's id as associated data.
    secrets     text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'connected' CHECK (status IN ('pending', 'connected', 'disconnected', 'error')),
    last_error  text NOT NULL DEFAULT '',
    -- Messages per second this channel may send; provider throttling lowers the pace.
    rate        real NOT NULL DEFAULT 20 CHECK (rate > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channels_org ON channels (org_id, id);

CREATE TABLE conversations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    channel_id      bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    contact_id      bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'closed')),
    assignee_id     bigint REFERENCES users ON DELETE SET NULL,
    labels          text[] NOT NULL DEFAULT '{}',
    unread          int NOT NULL DEFAULT 0,
    last_message_at timestamptz NOT NULL DEFAULT now(),
    -- The customer's last message: WhatsApp allows free-form replies for 24 hours after it.
    last_inbound_at timestamptz,
    preview         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, contact_id)
);
CREATE INDEX conversations_list ON conversations (org_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations (org_id, assignee_id, last_message_at DESC, id DESC);

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    conversation_id bigint NOT NULL REFERENCES conversations ON DELETE CASCADE,
    channel_id      bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    direction       text NOT NULL CHECK (direction IN ('in', 'out', 'note')),
    kind            text NOT NULL DEFAULT 'text',
    body            text NOT NULL DEFAULT '',
    -- Media, location, contacts, template parameters…: whatever the kind carries.
    content         jsonb NOT NULL DEFAULT '{}',
    -- The provider's id (wamid, SM…): a webhook delivered twice stores one message.
    provider_id     text,
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
    error_code      text NOT NULL DEFAULT '',
    error_title     text NOT NULL DEFAULT '',
    sender_id       bigint REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    status_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_provider ON messages (channel_id, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX messages_thread ON messages (org_id, conversation_id, id DESC);

-- +goose Down
DROP TABLE messages, conversations, channels;
