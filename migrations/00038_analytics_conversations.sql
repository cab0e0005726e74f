-- The metric engine's messages and conversations families (app/analytics/messages.go and
-- conversations.go):
--
-- conversation_log: every change of a conversation's status, owner or assignee, written by a
--   trigger in the same statement that made it, so no path (an agent's close, the API, the
--   bot's hand-over, a customer's message reopening it, a campaign creating it) can skip it.
--   Cases (the unit of response and resolution times) end at its closes.
-- analytics_message_facts: what a message counts as (its source: a person, the bot, a
--   campaign, a cadence, something else, or the customer), the one definition the rollup,
--   the label filter and the drill-downs read.
-- analytics_message_hours: messages per local hour of the org's zone (stored with the zone;
--   rows of another zone are rebuilt when the org's zone changes), channel, sender, source
--   and campaign, by their status now.
-- analytics_cases: one row per case, with plain and business-hours seconds.
-- org_inbox_settings: business hours and the first-response target.
-- Statement-level triggers leave marks in analytics_dirty (00037): "messages" marks carry the
-- UTC hour of a message (no hour: rebuild the org), "cases" marks the conversation (0:
-- rebuild the org).

-- +goose Up
CREATE TABLE conversation_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    conversation_id bigint NOT NULL REFERENCES conversations ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL,
    owner           text NOT NULL,
    assignee_id     bigint,
    -- The values before the change (NULL for a new conversation).
    old_status      text,
    old_owner       text,
    old_assignee_id bigint
);
CREATE INDEX conversation_log_conversation ON conversation_log (org_id, conversation_id, id);

-- What conversations were before the log existed: a closed one closed at its last message.
INSERT INTO conversation_log (org_id, conversation_id, at, status, owner, assignee_id)
SELECT org_id, id, last_message_at, status, owner, assignee_id FROM conversations WHERE status = 'closed';

-- The rollup and the drill-downs read the messages of a period of an org.
CREATE INDEX messages_created ON messages (org_id, created_at);

CREATE VIEW analytics_message_facts AS
SELECT m.org_id, m.id, m.conversation_id, m.channel_id, m.direction, m.status, m.created_at, m.body,
       coalesce(m.sender_id, 0) AS agent_id,
       CASE WHEN m.direction = 'in' THEN 'inbound'
            WHEN a.message_id IS NOT NULL THEN 'bot'
            WHEN r.campaign_id IS NOT NULL THEN 'campaign'
            WHEN EXISTS (SELECT 1 FROM cadence_steps s WHERE s.message_id = m.id AND s.org_id = m.org_id) THEN 'cadence'
            WHEN m.sender_id IS NOT NULL THEN 'person'
            ELSE 'other' END AS source,
       coalesce(r.campaign_id, 0) AS campaign_id,
       -- ai_replies.cost is in US dollars (the providers' currency and the AI budget's);
       -- the engine counts US cents.
       coalesce(a.cost * 100, 0) AS cost_cents
FROM messages m
LEFT JOIN ai_replies a ON a.message_id = m.id AND a.org_id = m.org_id
LEFT JOIN LATERAL (SELECT cr.campaign_id FROM campaign_recipients cr
                   WHERE cr.message_id = m.id AND cr.org_id = m.org_id LIMIT 1) r ON true
WHERE m.direction IN ('in', 'out');

CREATE TABLE analytics_message_hours (
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    zone        text NOT NULL,
    hour        timestamp NOT NULL, -- the local hour in zone (wall clock)
    channel_id  bigint NOT NULL,
    agent_id    bigint NOT NULL,    -- the sender, 0 for none
    source      text NOT NULL,      -- person, bot, campaign, cadence, other, inbound
    campaign_id bigint NOT NULL,    -- 0 for none
    total       int NOT NULL,       -- every message, whatever its status
    sent        int NOT NULL,       -- outbound the provider took or refused: not queued
    delivered   int NOT NULL,       -- delivered or read
    read        int NOT NULL,
    failed      int NOT NULL,
    cost_cents  numeric NOT NULL,
    PRIMARY KEY (org_id, zone, hour, channel_id, agent_id, source, campaign_id)
);

CREATE TABLE analytics_cases (
    org_id            bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    conversation_id   bigint NOT NULL,
    started_at        timestamptz NOT NULL, -- the customer's first message of the case
    channel_id        bigint NOT NULL,
    assignee_id       bigint NOT NULL,      -- at the close, or now while open; 0 for none
    labels            text[] NOT NULL,      -- the conversation's labels now
    first_reply_at    timestamptz,          -- the first reply by a person
    first_response_s  int,
    first_response_bs int,                  -- in business hours
    resolved_at       timestamptz,          -- the close that ended it
    resolution_s      int,
    resolution_bs     int,
    bot_replied       boolean NOT NULL,
    person_replies    int NOT NULL,
    handover_at       timestamptz,          -- the first hand-over from the bot to people
    PRIMARY KEY (org_id, conversation_id, started_at)
);
CREATE INDEX analytics_cases_started ON analytics_cases (org_id, started_at);
CREATE INDEX analytics_cases_resolved ON analytics_cases (org_id, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX analytics_cases_handover ON analytics_cases (org_id, handover_at) WHERE handover_at IS NOT NULL;

-- Business hours: [{"day":1,"from":"09:00","to":"18:00"}, …], day 0 Sunday … 6 Saturday,
-- in the org's zone; none means every hour counts. The target of the first response, in
-- minutes (0: none).
ALTER TABLE org_inbox_settings
    ADD COLUMN business_hours jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN response_target int NOT NULL DEFAULT 15 CHECK (response_target BETWEEN 0 AND 10080);

-- +goose StatementBegin
CREATE FUNCTION analytics_messages_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key, at)
    SELECT DISTINCT org_id, 'messages', 0, date_trunc('hour', created_at) FROM new_rows WHERE direction <> 'note';
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analytics_dirty (org_id, kind, key)
        SELECT DISTINCT org_id, 'cases', conversation_id FROM new_rows WHERE direction <> 'note';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_conversations_logged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conversation_log (org_id, conversation_id, status, owner, assignee_id)
        SELECT org_id, id, status, owner, assignee_id FROM new_rows;
        RETURN NULL;
    END IF;
    WITH changed AS (
        SELECT n.org_id, n.id, n.status, n.owner, n.assignee_id, o.status AS old_status, o.owner AS old_owner,
               o.assignee_id AS old_assignee_id,
               (n.status, n.owner, n.assignee_id) IS DISTINCT FROM (o.status, o.owner, o.assignee_id) AS logged
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.owner, n.assignee_id, n.labels) IS DISTINCT FROM (o.status, o.owner, o.assignee_id, o.labels)
    ), logged AS (
        INSERT INTO conversation_log (org_id, conversation_id, status, owner, assignee_id, old_status, old_owner, old_assignee_id)
        SELECT org_id, id, status, owner, assignee_id, old_status, old_owner, old_assignee_id FROM changed WHERE logged
    )
    INSERT INTO analytics_dirty (org_id, kind, key) SELECT org_id, 'cases', id FROM changed;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_ai_replies_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key, at)
    SELECT DISTINCT m.org_id, 'messages', 0, date_trunc('hour', m.created_at)
    FROM new_rows n JOIN messages m ON m.id = n.message_id AND m.org_id = n.org_id
    UNION
    SELECT DISTINCT org_id, 'cases', conversation_id, NULL::timestamptz FROM new_rows;
    RETURN NULL;
END $$;

-- A new zone or new business hours count everything of the org again.
CREATE FUNCTION analytics_org_rebuilt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'orgs' THEN
        INSERT INTO analytics_dirty (org_id, kind, key) VALUES (NEW.id, 'messages', 0), (NEW.id, 'cases', 0);
    ELSE
        INSERT INTO analytics_dirty (org_id, kind, key) VALUES (NEW.org_id, 'cases', 0);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER analytics_messages_inserted AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_messages_marked();
CREATE TRIGGER analytics_messages_updated AFTER UPDATE ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_messages_marked();
CREATE TRIGGER analytics_conversations_inserted AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_conversations_logged();
CREATE TRIGGER analytics_conversations_updated AFTER UPDATE ON conversations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_conversations_logged();
CREATE TRIGGER analytics_ai_replies_inserted AFTER INSERT ON ai_replies
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_ai_replies_marked();
CREATE TRIGGER analytics_org_zone AFTER UPDATE OF time_zone ON orgs
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION analytics_org_rebuilt();
CREATE TRIGGER analytics_business_hours AFTER INSERT OR UPDATE ON org_inbox_settings
    FOR EACH ROW EXECUTE FUNCTION analytics_org_rebuilt();

-- Everything already there is counted by the first catch-up.
INSERT INTO analytics_dirty (org_id, kind, key) SELECT id, 'messages', 0 FROM orgs;
INSERT INTO analytics_dirty (org_id, kind, key) SELECT id, 'cases', 0 FROM orgs;

-- +goose Down
DROP TRIGGER analytics_business_hours ON org_inbox_settings;
DROP TRIGGER analytics_org_zone ON orgs;
DROP TRIGGER analytics_ai_replies_inserted ON ai_replies;
DROP TRIGGER analytics_conversations_updated ON conversations;
DROP TRIGGER analytics_conversations_inserted ON conversations;
DROP TRIGGER analytics_messages_updated ON messages;
DROP TRIGGER analytics_messages_inserted ON messages;
DROP FUNCTION analytics_org_rebuilt();
DROP FUNCTION analytics_ai_replies_marked();
DROP FUNCTION analytics_conversations_logged();
DROP FUNCTION analytics_messages_marked();
ALTER TABLE org_inbox_settings DROP COLUMN response_target, DROP COLUMN business_hours;
DROP TABLE analytics_cases;
DROP TABLE analytics_message_hours;
DROP VIEW analytics_message_facts;
DROP INDEX messages_created;
DROP TABLE conversation_log;
