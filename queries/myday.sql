-- The agent's "my day": the conversations waiting for them, and the internal notes that
-- mention them (model.Mentions).

-- name: conversations-waiting-for
-- The open conversations assigned to $2 whose customer wrote last: inbound messages after
-- the last reply (a person's or the bot's). waiting_since is the first of them; the oldest
-- waiting come first.
SELECT v.id, v.org_id, v.channel_id, v.contact_id, c.name AS contact_name, c.phone AS contact_phone, v.status,
       v.assignee_id, v.unread, v.last_message_at, v.last_inbound_at, v.preview, to_json(v.labels) AS labels, v.created_at,
       v.owner, v.persona_id, v.bot_stopped, v.bot_turns, v.bot_read_to, v.handover_reason, v.handover_summary, v.handover_at,
       w.since AS waiting_since
FROM conversations v
JOIN contacts c ON c.id = v.contact_id AND c.org_id = v.org_id
CROSS JOIN LATERAL (
    SELECT min(m.created_at) AS since FROM messages m
    WHERE m.org_id = $1 AND m.conversation_id = v.id AND m.direction = 'in'
      AND m.created_at > coalesce((SELECT max(o.created_at) FROM messages o
                                   WHERE o.org_id = $1 AND o.conversation_id = v.id AND o.direction = 'out'), '-infinity')
) w
WHERE v.org_id = $1 AND v.assignee_id = $2 AND v.status = 'open' AND v.last_inbound_at IS NOT NULL AND w.since IS NOT NULL
ORDER BY w.since, v.id
LIMIT $3;

-- name: note-mentions-add
-- $3: the mentioned user ids; only members of the org are stored, so a name that matched
-- someone who left meanwhile (or anyone of another org) never gets a mention.
INSERT INTO note_mentions (org_id, message_id, user_id)
SELECT $1, m.id, ms.user_id
FROM messages m JOIN memberships ms ON ms.org_id = $1 AND ms.user_id = ANY($3::bigint[])
WHERE m.org_id = $1 AND m.id = $2 AND m.direction = 'note'
ON CONFLICT (message_id, user_id) DO NOTHING;

-- name: note-mentions-of-user
-- A member's mentions, unseen first, then newest first; $3 > 0 keeps only the
-- conversations an agent restricted to their own and the unassigned ones may open.
SELECT n.message_id, m.conversation_id, m.body, m.created_at, n.seen_at,
       coalesce(u.name, '') AS sender_name, coalesce(c.name, '') AS contact_name, c.phone AS contact_phone
FROM note_mentions n
JOIN messages m ON m.org_id = $1 AND m.id = n.message_id
JOIN conversations v ON v.org_id = $1 AND v.id = m.conversation_id
JOIN contacts c ON c.org_id = $1 AND c.id = v.contact_id
LEFT JOIN users u ON u.id = m.sender_id
WHERE n.org_id = $1 AND n.user_id = $2
  AND ($3 = 0 OR v.assignee_id IS NULL OR v.assignee_id = $3)
ORDER BY (n.seen_at IS NOT NULL), n.created_at DESC, n.message_id DESC
LIMIT $4;

-- name: note-mentions-unseen
-- How many of a member's mentions are unseen, in one conversation ($3) or in all ($3 = 0).
SELECT count(*) FROM note_mentions n
JOIN messages m ON m.org_id = $1 AND m.id = n.message_id
WHERE n.org_id = $1 AND n.user_id = $2 AND n.seen_at IS NULL AND ($3 = 0 OR m.conversation_id = $3);

-- name: note-mentions-seen
-- The member opened the conversation: its mentions of them are seen.
UPDATE note_mentions n SET seen_at = now()
FROM messages m
WHERE n.org_id = $1 AND n.user_id = $2 AND n.seen_at IS NULL
  AND m.org_id = $1 AND m.id = n.message_id AND m.conversation_id = $3;
