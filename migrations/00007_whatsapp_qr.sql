-- WhatsApp by QR code: the pairing code a channel shows while it waits to be scanned. The
-- instance that holds the channel's session writes it; whichever instance serves the
-- connect page reads it. whatsmeow's own session tables (whatsmeow_*) are created by its
-- upgrade at start, not here.

-- +goose Up
CREATE TABLE whatsapp_qr_codes (
    channel_id  bigint PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    code        text NOT NULL,
    expires_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE whatsapp_qr_codes;
