-- The AI bot: personas, who owns a conversation, and what each bot reply was built from.
--
-- A persona is how the bot speaks (instructions, tone, language, model, temperature), what
-- it knows (its knowledge bases) and its rules (business hours, a maximum of bot turns,
-- keywords that hand over at once, what to do when nothing relevant is found). A channel
-- runs one persona on all its conversations; a conversation may run its own.
--
-- Every conversation has one owner at a time: 'bot', 'waiting' (for a human), 'human' or
-- 'closed'. Only explicit actions change it: the model's hand-over tool call, a persona
-- rule, an agent's reply or take-over, a manager, closing. bot_stopped is set when an agent
-- takes over: the bot never answers that conversation again until an agent gives it back.

-- +goose Up
CREATE TABLE personas (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    instructions      text NOT NULL DEFAULT '' CHECK (char_length(instructions) <= 8000),
    tone              text NOT NULL DEFAULT 'friendly' CHECK (tone IN ('friendly', 'formal', 'casual', 'concise')),
    language          text NOT NULL DEFAULT 'pt-BR' CHECK (char_length(language) BETWEEN 2 AND 10),
    model             text NOT NULL DEFAULT '' CHECK (char_length(model) <= 200), -- '' is the org's chat model
    temperature       numeric(3, 2) NOT NULL DEFAULT 0.3 CHECK (temperature BETWEEN 0 AND 2),
    -- Nothing relevant found in the knowledge bases: say so and hand over, or hand over silently.
    nothing_found     text NOT NULL DEFAULT 'say' CHECK (nothing_found IN ('say', 'silent')),
    max_turns         int NOT NULL DEFAULT 10 CHECK (max_turns BETWEEN 1 AND 100),
    handover_keywords text[] NOT NULL DEFAULT '{atendente,humano,pessoa}',
    -- What the customer is told at a hand-over ('' uses the default words of the language).
    handover_message  text NOT NULL DEFAULT '' CHECK (char_length(handover_message) <= 1000),
    -- Business hours in the org's time zone: {"mon":[["08:00","18:00"]], …}; {} is always.
    -- Outside them the bot still answers, but hands over to nobody: people are away.
    business_hours    jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX personas_org ON personas (org_id, name);

CREATE TABLE persona_knowledge_bases (
    org_id            bigint NOT NULL,
    persona_id        bigint NOT NULL,
    knowledge_base_id bigint NOT NULL,
    PRIMARY KEY (persona_id, knowledge_base_id),
    FOREIGN KEY (org_id, persona_id) REFERENCES personas (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, knowledge_base_id) REFERENCES knowledge_bases (org_id, id) ON DELETE CASCADE
);

-- The persona a channel runs on every conversation (NULL: no bot).
ALTER TABLE channels ADD COLUMN persona_id bigint REFERENCES personas ON DELETE SET NULL;

ALTER TABLE conversations
    ADD COLUMN owner text NOT NULL DEFAULT 'human' CHECK (owner IN ('bot', 'waiting', 'human', 'closed')),
    -- The persona of this conversation alone (NULL: the channel's).
    ADD COLUMN persona_id bigint REFERENCES personas ON DELETE SET NULL,
    ADD COLUMN bot_stopped boolean NOT NULL DEFAULT false,
    ADD COLUMN bot_turns int NOT NULL DEFAULT 0,
    -- The id of the newest customer message the bot has dealt with (answered or handed
    -- over): what comes after it is what the bot has to answer.
    ADD COLUMN bot_read_to bigint NOT NULL DEFAULT 0,
    -- The last hand-over: why, a summary for the agent, and when.
    ADD COLUMN handover_reason text NOT NULL DEFAULT '',
    ADD COLUMN handover_summary text NOT NULL DEFAULT '',
    ADD COLUMN handover_at timestamptz;
CREATE INDEX conversations_owner ON conversations (org_id, owner, last_message_at DESC, id DESC)
    WHERE owner IN ('bot', 'waiting');

-- What a bot reply was built from: its persona, the model, tokens and cost, and the chunks
-- it cited ([{"n":1,"document_id":…,"chunk_id":…,"title":…,"text":…}]).
CREATE TABLE ai_replies (
    message_id        bigint PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    org_id            bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    conversation_id   bigint NOT NULL REFERENCES conversations ON DELETE CASCADE,
    persona_id        bigint REFERENCES personas ON DELETE SET NULL,
    model             text NOT NULL,
    prompt_tokens     int NOT NULL DEFAULT 0,
    completion_tokens int NOT NULL DEFAULT 0,
    cost              numeric(14, 8) NOT NULL DEFAULT 0,
    citations         jsonb NOT NULL DEFAULT '[]',
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_replies_conversation ON ai_replies (org_id, conversation_id);

-- When managers were last told that the month's AI budget is spent (once a month).
ALTER TABLE ai_providers ADD COLUMN budget_alerted_at timestamptz;

-- +goose Down
ALTER TABLE ai_providers DROP COLUMN budget_alerted_at;
DROP TABLE ai_replies;
DROP INDEX conversations_owner;
ALTER TABLE conversations DROP COLUMN owner, DROP COLUMN persona_id, DROP COLUMN bot_stopped,
    DROP COLUMN bot_turns, DROP COLUMN bot_read_to, DROP COLUMN handover_reason, DROP COLUMN handover_summary,
    DROP COLUMN handover_at;
ALTER TABLE channels DROP COLUMN persona_id;
DROP TABLE persona_knowledge_bases;
DROP TABLE personas;
