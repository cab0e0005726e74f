-- The contact policy every automated send (campaigns, cadences) passes before it leaves
-- (app/campaign/policy): an opt-out on any channel blocks all of them, a frequency cap per
-- contact across campaigns and cadences, quiet hours in the contact's zone, and no SMS twice.
--
-- org_contact_policy is the org's settings, one row created on first save; no row reads as
-- the defaults (at most 2 automated messages a day, quiet from 21:00 to 08:00, the same SMS
-- never twice to a phone within 24 hours).
--
-- automated_sends is what the cap counts: one row per automated send, written in the
-- transaction that commits to sending it.
--
-- sms_sends is the SMS duplication guard: the same text (its SHA-256 after its variables) to
-- the same phone is refused by an exclusion constraint while the first send's window is open,
-- whichever campaign, cadence or contact sends it, so it holds under concurrency and across
-- instances (a second transaction waits on the first and then finds the conflict).

-- +goose Up
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE org_contact_policy (
    org_id          bigint PRIMARY KEY REFERENCES orgs ON DELETE CASCADE,
    daily_cap       int NOT NULL DEFAULT 2 CHECK (daily_cap BETWEEN 0 AND 50),      -- 0: no cap
    quiet_start     int NOT NULL DEFAULT 21 CHECK (quiet_start BETWEEN 0 AND 23),   -- start = end: no quiet hours
    quiet_end       int NOT NULL DEFAULT 8 CHECK (quiet_end BETWEEN 0 AND 23),
    sms_dedup_hours int NOT NULL DEFAULT 24 CHECK (sms_dedup_hours BETWEEN 0 AND 720), -- 0: no guard
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE automated_sends (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'voice')),
    source      text NOT NULL CHECK (source IN ('campaign', 'cadence')),
    source_id   bigint NOT NULL,
    source_name text NOT NULL DEFAULT '',
    sent_at     timestamptz NOT NULL
);
CREATE INDEX automated_sends_contact ON automated_sends (org_id, contact_id, sent_at);
CREATE INDEX automated_sends_sent_at ON automated_sends (sent_at);

CREATE TABLE sms_sends (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    phone       text NOT NULL,
    text_hash   bytea NOT NULL,
    sent_at     timestamptz NOT NULL,
    -- [sent_at, sent_at + the org's window when it was sent)
    during      tstzrange NOT NULL CHECK (lower(during) = sent_at),
    contact_id  bigint REFERENCES contacts ON DELETE SET NULL,
    source      text NOT NULL CHECK (source IN ('campaign', 'cadence')),
    source_id   bigint NOT NULL,
    source_name text NOT NULL DEFAULT '',
    CONSTRAINT sms_sends_no_duplicate EXCLUDE USING gist (org_id WITH =, phone WITH =, text_hash WITH =, during WITH &&)
);
CREATE INDEX sms_sends_sent_at ON sms_sends (sent_at);

-- +goose Down
DROP TABLE sms_sends;
DROP TABLE automated_sends;
DROP TABLE org_contact_policy;
