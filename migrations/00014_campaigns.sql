-- Mass campaigns. A campaign is built as a draft (audience, message, schedule, safety
-- settings), then launched: launching snapshots its audience into campaign_recipients, one
-- row per contact, and that row is the ledger of the send. Its status only moves forward:
-- pending → claimed → sent → delivered → read → replied, or ends failed, skipped or capped.
-- The pace of a channel is shared by every instance through channel_pace.

-- +goose Up
ALTER TABLE orgs ADD COLUMN time_zone text NOT NULL DEFAULT 'America/Sao_Paulo';

-- What the provider says a channel may send, and the safety settings of a number linked by QR.
ALTER TABLE channels
    ADD COLUMN messaging_limit int NOT NULL DEFAULT 0,   -- unique people per moving 24 h; -1 unlimited, 0 unknown
    ADD COLUMN quality text NOT NULL DEFAULT '',          -- GREEN, YELLOW, RED
    ADD COLUMN limits_at timestamptz,                     -- when the limit and quality were last learned
    ADD COLUMN send_settings jsonb NOT NULL DEFAULT '{}'; -- QR: delay range, daily cap, warm-up

CREATE TABLE campaigns (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    channel_id   bigint REFERENCES channels ON DELETE SET NULL,
    status       text NOT NULL DEFAULT 'draft'
                 CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled')),
    -- Who gets it: a segment, tags, board stages, contacts picked by hand, an uploaded CSV.
    audience     jsonb NOT NULL DEFAULT '{}',
    -- What they get: one to three variants (text or template with its variable mapping).
    message      jsonb NOT NULL DEFAULT '{}',
    -- Quiet hours, frequency cap, reply window, capped retry, auto-pause threshold, spreading, A/B.
    settings     jsonb NOT NULL DEFAULT '{}',
    scheduled_at timestamptz,
    launched_at  timestamptz,
    finished_at  timestamptz,
    pause_reason text NOT NULL DEFAULT '',
    pause_detail text NOT NULL DEFAULT '',
    winner       smallint,
    created_by   bigint REFERENCES users ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_org ON campaigns (org_id, id DESC);
CREATE INDEX campaigns_active ON campaigns (status, scheduled_at) WHERE status IN ('scheduled', 'running');

CREATE TABLE campaign_recipients (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key on org_id: rows go with their campaign (which goes with its org), and a
    -- launch writes 100,000 of them at once, each key a check.
    org_id       bigint NOT NULL,
    campaign_id  bigint NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    channel_id   bigint NOT NULL,
    contact_id   bigint REFERENCES contacts ON DELETE SET NULL,
    name         text NOT NULL DEFAULT '',
    -- How the channel reaches the person (E.164, or a WhatsApp user id), and the key two
    -- contacts of one person share (Brazil's mobile numbers with and without the ninth digit).
    address      text NOT NULL DEFAULT '',
    dedup_key    text,
    -- The contact that got the send instead of this one, for a duplicate.
    kept_contact_id bigint,
    variant      smallint,          -- null: waits for the A/B test's winner
    params       jsonb,             -- the template's variables, resolved at launch
    zone         text,              -- the contact's stored time zone, if any
    country      text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN
                 ('pending', 'claimed', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped', 'capped')),
    skip_reason  text NOT NULL DEFAULT '',
    not_before   timestamptz NOT NULL DEFAULT 'epoch', -- far future: waits for the A/B winner
    attempts     int NOT NULL DEFAULT 0,
    claimed_at   timestamptz,
    message_id   bigint REFERENCES messages ON DELETE SET NULL,
    provider_id  text,
    error_code   text NOT NULL DEFAULT '',
    error_title  text NOT NULL DEFAULT '',
    -- Counts toward WhatsApp's limit of people reached outside a service window.
    counted      boolean NOT NULL DEFAULT false,
    sent_at      timestamptz,
    delivered_at timestamptz,
    read_at      timestamptz,
    replied_at   timestamptz,
    failed_at    timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, contact_id)
);
-- The queue: what a runner claims next.
CREATE INDEX campaign_recipients_queue ON campaign_recipients (campaign_id, not_before, id) WHERE status = 'pending';
CREATE INDEX campaign_recipients_status ON campaign_recipients (campaign_id, status, id);
CREATE INDEX campaign_recipients_message ON campaign_recipients (message_id) WHERE message_id IS NOT NULL;
-- A contact's sends: replies, the frequency cap across campaigns, the contact's timeline.
CREATE INDEX campaign_recipients_contact ON campaign_recipients (org_id, contact_id, sent_at) WHERE sent_at IS NOT NULL;
-- The 24-hour messaging limit, counted from the ledger.
CREATE INDEX campaign_recipients_reach ON campaign_recipients (org_id, sent_at) WHERE counted;
CREATE INDEX campaign_recipients_stale ON campaign_recipients (claimed_at) WHERE status = 'claimed';
-- The last sends of a campaign, for its failure rate; the contacts whose number a provider
-- said does not work, for launch checks (small: only those rows).
CREATE INDEX campaign_recipients_recent ON campaign_recipients (campaign_id, claimed_at DESC) WHERE claimed_at IS NOT NULL;
CREATE INDEX campaign_recipients_invalid ON campaign_recipients (org_id, contact_id) WHERE error_code IN ('131026', '21211', '21614');

-- How far a recipient got: a status report never moves one back (read stays read when a
-- late "delivered" arrives), and failed or capped end only a send not yet delivered.
-- +goose StatementBegin
CREATE FUNCTION recipient_rank(status text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status WHEN 'pending' THEN 0 WHEN 'claimed' THEN 1 WHEN 'sent' THEN 2
        WHEN 'failed' THEN 3 WHEN 'capped' THEN 3 WHEN 'delivered' THEN 4 WHEN 'read' THEN 5
        WHEN 'replied' THEN 6 WHEN 'skipped' THEN 7 ELSE 0 END
$$;
-- +goose StatementEnd

-- One pace per channel for every instance: a GCRA whose theoretical arrival time each
-- runner pushes forward by the time its batch needs. factor < 1 after provider throttling,
-- recovering over two minutes.
CREATE TABLE channel_pace (
    channel_id bigint PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    tat        timestamptz NOT NULL DEFAULT now(),
    factor     double precision NOT NULL DEFAULT 1 CHECK (factor > 0 AND factor <= 1),
    slowed_at  timestamptz NOT NULL DEFAULT now()
);

-- What one message costs, by channel kind, country and category, editable per org.
CREATE TABLE campaign_prices (
    org_id   bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    kind     text NOT NULL,
    country  text NOT NULL,          -- ISO 3166 alpha-2, or '*' for every other country
    category text NOT NULL,          -- marketing, utility, authentication, sms
    price    numeric(10, 5) NOT NULL CHECK (price >= 0),
    currency text NOT NULL DEFAULT 'USD',
    PRIMARY KEY (org_id, kind, country, category)
);

-- +goose Down
DROP TABLE campaign_prices, channel_pace, campaign_recipients, campaigns;
DROP FUNCTION recipient_rank;
ALTER TABLE channels DROP COLUMN messaging_limit, DROP COLUMN quality, DROP COLUMN limits_at, DROP COLUMN send_settings;
ALTER TABLE orgs DROP COLUMN time_zone;
