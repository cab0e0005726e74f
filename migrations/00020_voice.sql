-- Voice AI: an org's Retell account, its numbers (bought from Twilio and wired to Retell
-- through an Elastic SIP trunk, or linked as they are) and its calls.
--
-- voice_accounts is the org's Retell connection; its id names the webhook URL Retell posts
-- call events to (/webhooks/retell/{id}), whose signature is checked with the account's
-- key (sealed by app/vault, bound to the account's id).
--
-- voice_numbers records the set-up of a number step by step (searched → bought → trunk →
-- origination → credentials → attached → imported → ready): a failure keeps the step it
-- reached and its error, and "continue" resumes from there, so nothing is bought twice.
--
-- calls has one row per Retell call id however often, and in whatever order, its events
-- come: each event only moves the row forward (call_event_rank), and call_events keeps one
-- row per (call, event) delivered, so a retry is recognised.

-- +goose Up
CREATE TABLE voice_accounts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           bigint NOT NULL UNIQUE REFERENCES orgs ON DELETE CASCADE,
    api_key_sealed   text NOT NULL,
    status           text NOT NULL DEFAULT 'untested' CHECK (status IN ('untested', 'ok', 'error')),
    last_error       text NOT NULL DEFAULT '',
    tested_at        timestamptz,
    -- Calls at once for the org (Retell's own limit is its concurrency).
    max_concurrent   int NOT NULL DEFAULT 5 CHECK (max_concurrent BETWEEN 1 AND 1000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);

CREATE TABLE voice_numbers (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id               bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    phone_number         text NOT NULL CHECK (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
    source               text NOT NULL DEFAULT 'twilio' CHECK (source IN ('twilio', 'linked')),
    country              text NOT NULL DEFAULT '',
    -- How far the set-up went, and the last failure ('' when none).
    step                 text NOT NULL DEFAULT 'bought'
                         CHECK (step IN ('bought', 'trunk', 'origination', 'credentials', 'attached', 'imported', 'ready')),
    status               text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'failed', 'ready')),
    last_error           text NOT NULL DEFAULT '',
    twilio_number_sid    text NOT NULL DEFAULT '',
    trunk_sid            text NOT NULL DEFAULT '',
    termination_uri      text NOT NULL DEFAULT '',  -- <name>.pstn.twilio.com
    origination_url_sid  text NOT NULL DEFAULT '',
    credential_list_sid  text NOT NULL DEFAULT '',
    sip_username         text NOT NULL DEFAULT '',
    sip_password_sealed  text NOT NULL DEFAULT '',
    inbound_agent_id     text NOT NULL DEFAULT '',
    outbound_agent_id    text NOT NULL DEFAULT '',
    nickname             text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, phone_number),
    UNIQUE (org_id, id)
);

CREATE TABLE calls (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    call_id             text NOT NULL,             -- Retell's
    number_id           bigint REFERENCES voice_numbers ON DELETE SET NULL,
    contact_id          bigint REFERENCES contacts ON DELETE SET NULL,
    lead_id             bigint REFERENCES leads ON DELETE SET NULL,
    conversation_id     bigint REFERENCES conversations ON DELETE SET NULL,
    campaign_id         bigint REFERENCES campaigns ON DELETE SET NULL,
    direction           text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_number         text NOT NULL DEFAULT '',
    to_number           text NOT NULL DEFAULT '',
    agent_id            text NOT NULL DEFAULT '',
    agent_name          text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'registered'
                        CHECK (status IN ('registered', 'ongoing', 'ended', 'not_connected', 'error')),
    -- The last event applied: registered 0, call_started 1, call_ended 2, call_analyzed 3.
    event_rank          int NOT NULL DEFAULT 0,
    disconnection_reason text NOT NULL DEFAULT '',
    started_at          timestamptz,
    ended_at            timestamptz,
    duration_ms         bigint NOT NULL DEFAULT 0,
    recording_url       text NOT NULL DEFAULT '',  -- Retell's (signed, short-lived)
    recording_file_id   bigint,                    -- the copy kept in the media store
    transcript          text NOT NULL DEFAULT '',
    transcript_object   jsonb NOT NULL DEFAULT '[]',
    summary             text NOT NULL DEFAULT '',
    sentiment           text NOT NULL DEFAULT '' CHECK (sentiment IN ('', 'Positive', 'Neutral', 'Negative', 'Unknown')),
    successful          boolean,
    in_voicemail        boolean,
    custom_analysis     jsonb NOT NULL DEFAULT '{}',
    cost_cents          numeric(12, 4) NOT NULL DEFAULT 0,
    metadata            jsonb NOT NULL DEFAULT '{}',
    dynamic_variables   jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, call_id),
    UNIQUE (org_id, id)
);
CREATE INDEX calls_org_time ON calls (org_id, created_at DESC, id DESC);
CREATE INDEX calls_contact ON calls (org_id, contact_id, created_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX calls_conversation ON calls (org_id, conversation_id, created_at) WHERE conversation_id IS NOT NULL;
CREATE INDEX calls_live ON calls (org_id) WHERE status IN ('registered', 'ongoing');

CREATE TABLE call_events (
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    call_id     text NOT NULL,
    event       text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, call_id, event)
);

-- +goose Down
DROP TABLE call_events;
DROP TABLE calls;
DROP TABLE voice_numbers;
DROP TABLE voice_accounts;
