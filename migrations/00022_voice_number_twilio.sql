-- Which of the org's Twilio accounts (a Twilio SMS channel's SID and token) a voice number
-- was bought with, so "continue" goes on with the same account.

-- +goose Up
ALTER TABLE voice_numbers ADD COLUMN twilio_channel_id bigint REFERENCES channels ON DELETE SET NULL;

-- +goose Down
ALTER TABLE voice_numbers DROP COLUMN twilio_channel_id;
