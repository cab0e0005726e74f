-- Call campaigns: a campaign whose channel is a voice number calls its audience through
-- Retell instead of messaging it. The ledger stays campaign_recipients: a recipient is
-- claimed, called (sent, provider_id = Retell's call id), then answered, or back to pending
-- for a retry after the campaign's delay, or failed with the reason of its last call.
-- calls_done lists the calls that settled the recipient, so a duplicate or a late event of
-- an earlier call settles nothing twice.

-- +goose Up
ALTER TABLE campaigns ADD COLUMN voice_number_id bigint REFERENCES voice_numbers ON DELETE SET NULL;
CREATE INDEX campaigns_voice_number ON campaigns (org_id, voice_number_id) WHERE voice_number_id IS NOT NULL;

ALTER TABLE campaign_recipients
    DROP CONSTRAINT campaign_recipients_status_check,
    ADD CONSTRAINT campaign_recipients_status_check CHECK (status IN
        ('pending', 'claimed', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped', 'capped', 'answered')),
    -- The last call's outcome: answered, voicemail, no_answer, busy, dial_failed, invalid_number.
    ADD COLUMN call_result text NOT NULL DEFAULT '',
    -- Retell's analysis of the answered call said it reached its goal.
    ADD COLUMN call_successful boolean,
    ADD COLUMN calls_done text[] NOT NULL DEFAULT '{}';

-- The runner's "calls of this campaign still running".
CREATE INDEX calls_campaign_live ON calls (org_id, campaign_id) WHERE campaign_id IS NOT NULL AND status IN ('registered', 'ongoing');

-- answered ranks like delivered: a late status never moves it back.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION recipient_rank(status text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status WHEN 'pending' THEN 0 WHEN 'claimed' THEN 1 WHEN 'sent' THEN 2
        WHEN 'failed' THEN 3 WHEN 'capped' THEN 3 WHEN 'delivered' THEN 4 WHEN 'answered' THEN 4 WHEN 'read' THEN 5
        WHEN 'replied' THEN 6 WHEN 'skipped' THEN 7 ELSE 0 END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION recipient_rank(status text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status WHEN 'pending' THEN 0 WHEN 'claimed' THEN 1 WHEN 'sent' THEN 2
        WHEN 'failed' THEN 3 WHEN 'capped' THEN 3 WHEN 'delivered' THEN 4 WHEN 'read' THEN 5
        WHEN 'replied' THEN 6 WHEN 'skipped' THEN 7 ELSE 0 END
$$;
-- +goose StatementEnd
DROP INDEX calls_campaign_live;
DELETE FROM campaign_recipients WHERE status = 'answered';
ALTER TABLE campaign_recipients
    DROP COLUMN calls_done, DROP COLUMN call_successful, DROP COLUMN call_result,
    DROP CONSTRAINT campaign_recipients_status_check,
    ADD CONSTRAINT campaign_recipients_status_check CHECK (status IN
        ('pending', 'claimed', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped', 'capped'));
DROP INDEX campaigns_voice_number;
ALTER TABLE campaigns DROP COLUMN voice_number_id;
