-- The AI bot: personas, conversation owners and bot replies (migration 00017).

-- name: personas
-- An org's personas with the ids of their knowledge bases, by name.
SELECT p.id, p.org_id, p.name, p.instructions, p.tone, p.language, p.model, p.temperature::float8 AS temperature,
    p.nothing_found, p.max_turns, to_json(p.handover_keywords) AS handover_keywords, p.handover_message,
    p.business_hours, p.created_at, p.updated_at,
    to_json(ARRAY(SELECT k.knowledge_base_id FROM persona_knowledge_bases k
                  WHERE k.org_id = p.org_id AND k.persona_id = p.id ORDER BY k.knowledge_base_id)) AS knowledge_base_ids
FROM personas p WHERE p.org_id = $1
ORDER BY lower(p.name), p.id;

-- name: personas-page
-- A page of an org's personas in the order they were made, after id $2 (0: from the first).
SELECT p.id, p.org_id, p.name, p.instructions, p.tone, p.language, p.model, p.temperature::float8 AS temperature,
    p.nothing_found, p.max_turns, to_json(p.handover_keywords) AS handover_keywords, p.handover_message,
    p.business_hours, p.created_at, p.updated_at,
    to_json(ARRAY(SELECT k.knowledge_base_id FROM persona_knowledge_bases k
                  WHERE k.org_id = p.org_id AND k.persona_id = p.id ORDER BY k.knowledge_base_id)) AS knowledge_base_ids
FROM personas p WHERE p.org_id = $1 AND p.id > $2
ORDER BY p.id LIMIT $3;

-- name: persona
SELECT p.id, p.org_id, p.name, p.instructions, p.tone, p.language, p.model, p.temperature::float8 AS temperature,
    p.nothing_found, p.max_turns, to_json(p.handover_keywords) AS handover_keywords, p.handover_message,
    p.business_hours, p.created_at, p.updated_at,
    to_json(ARRAY(SELECT k.knowledge_base_id FROM persona_knowledge_bases k
                  WHERE k.org_id = p.org_id AND k.persona_id = p.id ORDER BY k.knowledge_base_id)) AS knowledge_base_ids
FROM personas p WHERE p.org_id = $1 AND p.id = $2;

-- name: persona-create
INSERT INTO personas (org_id, name, instructions, tone, language, model, temperature, nothing_found,
    max_turns, handover_keywords, handover_message, business_hours)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING id;

-- name: persona-update
UPDATE personas SET name = $3, instructions = $4, tone = $5, language = $6, model = $7, temperature = $8,
    nothing_found = $9, max_turns = $10, handover_keywords = $11, handover_message = $12,
    business_hours = $13, updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: persona-delete
DELETE FROM personas WHERE org_id = $1 AND id = $2;

-- name: persona-kbs-set
-- The persona's knowledge bases become exactly $3; ids of another org's bases are ignored.
WITH gone AS (
    DELETE FROM persona_knowledge_bases WHERE org_id = $1 AND persona_id = $2
        AND NOT (knowledge_base_id = ANY ($3::bigint[]))
)
INSERT INTO persona_knowledge_bases (org_id, persona_id, knowledge_base_id)
SELECT $1, $2, b.id FROM knowledge_bases b WHERE b.org_id = $1 AND b.id = ANY ($3::bigint[])
ON CONFLICT DO NOTHING;

-- name: channel-set-persona
-- The bot on a channel: its new conversations start with the bot ($3 NULL: no bot).
UPDATE channels SET persona_id = $3, updated_at = now()
WHERE org_id = $1 AND id = $2
  AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM personas p WHERE p.org_id = $1 AND p.id = $3));

-- name: conversation-set-owner
-- An explicit change of owner. $4 sets bot_stopped (an agent took over for good), NULL keeps
-- it. Given back to the bot, a conversation starts its turns again and the bot answers what
-- the customer writes from now on, not what an agent has seen already.
UPDATE conversations v SET owner = $3, bot_stopped = coalesce($4, bot_stopped),
    bot_turns = CASE WHEN $3 = 'bot' THEN 0 ELSE bot_turns END,
    bot_read_to = CASE WHEN $3 = 'bot' THEN coalesce((SELECT max(m.id) FROM messages m
        WHERE m.org_id = $1 AND m.conversation_id = $2), 0) ELSE bot_read_to END
WHERE org_id = $1 AND id = $2
RETURNING owner;

-- name: conversation-set-persona
-- The bot on one conversation ($3 NULL: the channel's persona, if any).
UPDATE conversations SET persona_id = $3
WHERE org_id = $1 AND id = $2
  AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM personas p WHERE p.org_id = $1 AND p.id = $3));

-- name: conversation-bot-done
-- The bot has dealt with the customer's messages up to $4, which it read when it started
-- ($3 was bot_read_to then): it answered ($5 'bot', one more turn) or handed over ($5
-- 'waiting', with the reason $6, a summary $7 and the time $8). Nothing changes, and the
-- bot drops its answer, when the conversation moved meanwhile: an agent took it, another
-- run answered, or the customer wrote again (the run for the newer message answers all).
UPDATE conversations v SET bot_read_to = $4, owner = $5,
    bot_turns = bot_turns + CASE WHEN $5 = 'bot' THEN 1 ELSE 0 END,
    handover_reason = CASE WHEN $5 = 'waiting' THEN $6 ELSE handover_reason END,
    handover_summary = CASE WHEN $5 = 'waiting' THEN $7 ELSE handover_summary END,
    handover_at = CASE WHEN $5 = 'waiting' THEN $8 ELSE handover_at END
WHERE v.org_id = $1 AND v.id = $2 AND v.owner = 'bot' AND v.bot_read_to = $3
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.org_id = $1 AND m.conversation_id = $2
                  AND m.direction = 'in' AND m.id > $4)
RETURNING v.id;

-- name: ai-reply-add
INSERT INTO ai_replies (message_id, org_id, conversation_id, persona_id, model, prompt_tokens,
    completion_tokens, cost, citations)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: ai-replies-of
-- The bot replies among a thread's messages, for the sources shown under them.
SELECT message_id, persona_id, model, prompt_tokens, completion_tokens, cost::float8 AS cost, citations, created_at
FROM ai_replies WHERE org_id = $1 AND message_id = ANY ($2::bigint[]);

-- name: bot-pending
-- What the bot has to answer in a conversation: the customer's messages after $3 (the
-- conversation's bot_read_to), oldest first.
SELECT m.id, m.kind, m.body, m.created_at FROM messages m
WHERE m.org_id = $1 AND m.conversation_id = $2 AND m.direction = 'in' AND m.id > $3
ORDER BY m.id
LIMIT 50;

-- name: bot-history
-- The conversation's latest messages, newest first (notes are for agents, not the model).
SELECT m.id, m.direction, m.kind, m.body, m.created_at FROM messages m
WHERE m.org_id = $1 AND m.conversation_id = $2 AND m.direction IN ('in', 'out')
ORDER BY m.id DESC
LIMIT $3;

-- name: bot-recent-replies
-- How many replies the bot sent in a conversation since a time: its rate limit.
SELECT count(*) FROM ai_replies WHERE org_id = $1 AND conversation_id = $2 AND created_at > $3;

-- name: ai-budget-alert
-- Marks that managers were told the month's budget is spent; true only the first time in
-- the month that starts at $2.
UPDATE ai_providers SET budget_alerted_at = now()
WHERE org_id = $1 AND (budget_alerted_at IS NULL OR budget_alerted_at < $2)
RETURNING true;
