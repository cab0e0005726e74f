-- name: channel-create
-- A QR channel starts pending: it has no number until a phone scans its code.
INSERT INTO channels (org_id, kind, name, config, rate, status)
VALUES ($1, $2::text, $3, $4, $5, CASE WHEN $2::text = 'whatsapp_qr' THEN 'pending' ELSE 'connected' END)
RETURNING id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at, persona_id;

-- name: channel-set-secrets
UPDATE channels SET secrets = $3, updated_at = now() WHERE org_id = $1 AND id = $2;

-- name: channel
SELECT id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at, persona_id
FROM channels WHERE org_id = $1 AND id = $2;

-- name: channel-for-webhook
-- cross-org: a provider's webhook names only the channel; its signature, checked with the
-- channel's own secret, is what proves it.
SELECT id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at, persona_id
FROM channels WHERE id = $1;

-- name: channels
SELECT id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at, persona_id
FROM channels WHERE org_id = $1 ORDER BY lower(name), id;

-- name: channels-page
-- A page of an org's channels in the order they were made, after id $2 (0: from the first).
SELECT id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at, persona_id
FROM channels WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: conversation-open
-- The conversation of a contact on a channel, created on first contact; reopened when closed.
INSERT INTO conversations (org_id, channel_id, contact_id) VALUES ($1, $2, $3)
ON CONFLICT (channel_id, contact_id) DO UPDATE SET status = CASE WHEN conversations.status = 'closed' THEN 'open' ELSE conversations.status END
RETURNING id;

-- name: conversation-touch
-- After a message: its time, the preview line, and for an inbound one the unread count and
-- the 24-hour service window.
UPDATE conversations SET last_message_at = $3, preview = $4,
       unread = unread + CASE WHEN $5 THEN 1 ELSE 0 END,
       last_inbound_at = CASE WHEN $5 THEN greatest(coalesce(last_inbound_at, $3), $3) ELSE last_inbound_at END
WHERE org_id = $1 AND id = $2;

-- name: conversation
SELECT v.id, v.org_id, v.channel_id, v.contact_id, c.name AS contact_name, c.phone AS contact_phone, v.status,
       v.assignee_id, v.unread, v.last_message_at, v.last_inbound_at, v.preview, to_json(v.labels) AS labels, v.created_at,
       v.owner, v.persona_id, v.bot_stopped, v.bot_turns, v.bot_read_to, v.handover_reason, v.handover_summary, v.handover_at
FROM conversations v JOIN contacts c ON c.id = v.contact_id AND c.org_id = v.org_id
WHERE v.org_id = $1 AND v.id = $2;

-- name: message-insert
-- A message; one with a provider id already stored (a webhook delivered twice) is skipped.
INSERT INTO messages (org_id, conversation_id, channel_id, direction, kind, body, content, provider_id, status, sender_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (channel_id, provider_id) WHERE provider_id IS NOT NULL DO NOTHING
RETURNING id;

-- name: message
SELECT id, org_id, conversation_id, channel_id, direction, kind, body, content, provider_id, status, error_code,
       error_title, sender_id, created_at, status_at
FROM messages WHERE org_id = $1 AND id = $2;

-- name: messages
-- A thread page, newest first, older than $3 (0 starts at the newest).
SELECT id, org_id, conversation_id, channel_id, direction, kind, body, content, provider_id, status, error_code,
       error_title, sender_id, created_at, status_at
FROM messages WHERE org_id = $1 AND conversation_id = $2 AND ($3 = 0 OR id < $3)
ORDER BY id DESC LIMIT $4;

-- name: message-sent
-- The provider accepted a queued message; only a queued one moves, so a retry is harmless.
UPDATE messages SET status = 'sent', provider_id = $3, status_at = now()
WHERE org_id = $1 AND id = $2 AND status = 'queued';

-- name: message-failed
UPDATE messages SET status = 'failed', error_code = $3, error_title = $4, status_at = now()
WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'sent');

-- name: message-status
-- A provider's status report. Statuses only move forward (a late "delivered" never undoes a
-- "read"); failed ends a send unless it was already delivered or read.
UPDATE messages SET status = $3, error_code = $4, error_title = $5, status_at = now()
WHERE org_id = $1 AND channel_id = $2 AND provider_id = $6 AND direction = 'out'
  AND (CASE $3 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'failed' THEN 5 ELSE 0 END)
    > (CASE status WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'failed' THEN 9 ELSE 0 END)
  AND NOT ($3 = 'failed' AND status IN ('delivered', 'read'))
RETURNING id, conversation_id;

-- name: conversation-columns
-- fragment: the conversation list; the store appends the filters and the keyset.
SELECT v.id, v.org_id, v.channel_id, v.contact_id, c.name AS contact_name, c.phone AS contact_phone, v.status,
       v.assignee_id, v.unread, v.last_message_at, v.last_inbound_at, v.preview, to_json(v.labels) AS labels, v.created_at,
       v.owner, v.persona_id, v.bot_stopped, v.bot_turns, v.bot_read_to, v.handover_reason, v.handover_summary, v.handover_at
FROM conversations v JOIN contacts c ON c.id = v.contact_id AND c.org_id = v.org_id
WHERE v.org_id = $1

-- name: conversation-assign
UPDATE conversations SET assignee_id = $3 WHERE org_id = $1 AND id = $2;

-- name: conversation-set-status
-- Closing ends every owner's turn; an agent reopening it answers it.
UPDATE conversations SET status = $3,
    owner = CASE WHEN $3 = 'closed' THEN 'closed' WHEN owner = 'closed' THEN 'human' ELSE owner END
WHERE org_id = $1 AND id = $2;

-- name: conversation-read
UPDATE conversations SET unread = 0 WHERE org_id = $1 AND id = $2 AND unread > 0;

-- name: conversations-unread
-- The unread total the title badge shows, for what an agent may see.
SELECT coalesce(sum(unread), 0) FROM conversations
WHERE org_id = $1 AND unread > 0 AND status <> 'closed' AND ($2 = 0 OR assignee_id = $2 OR assignee_id IS NULL);

-- name: conversation-of-contact
SELECT id FROM conversations WHERE org_id = $1 AND channel_id = $2 AND contact_id = $3;

-- name: early-statuses-take
DELETE FROM early_statuses WHERE org_id = $1 AND channel_id = $2 AND provider_id = $3
RETURNING status, error_code, error_title;

-- name: early-statuses-delete-old
-- cross-org: reports for ids never stored (a send that failed) are forgotten after a day.
DELETE FROM early_statuses WHERE created_at < now() - interval '1 day';

-- name: last-inbound-provider-id
SELECT provider_id FROM messages
WHERE org_id = $1 AND conversation_id = $2 AND direction = 'in' AND provider_id IS NOT NULL
ORDER BY id DESC LIMIT 1;

-- name: inbound-receive
-- An inbound message in one round trip: the contact found by phone or by another identity
-- (WhatsApp user id, username, QR LID) or created (with its timeline line and identities),
-- the conversation created or reopened and touched, the message stored, its event written
-- and notified. A message already stored (Meta retries) touches nothing and returns
-- duplicate; two first messages of a new person racing may both miss the contact, and the
-- loser (its phone or its first identity taken meanwhile) returns contact_id 0 and is run
-- again. $1 org, $2 channel, $3 phone ('' when withheld), $4 profile name, $5 provider id,
-- $6 kind, $7 body, $8 content, $9 time, $10 preview, $11 event type, $12 identity kinds
-- and $13 their values, in the order they are trusted.
WITH dup AS (
    SELECT 1 FROM messages WHERE channel_id = $2 AND provider_id = $5 AND org_id = $1
), found AS (
    -- The phone first (the contact's own, then one a merge brought), then the other
    -- identities in the order given; LIMIT 1 stops at the first branch that finds the
    -- contact (the usual case: a known phone).
    (SELECT c.id FROM contacts c WHERE c.org_id = $1 AND c.phone = $3)
    UNION ALL
    (SELECT p.contact_id FROM contact_identities p WHERE p.org_id = $1 AND p.kind = 'phone' AND p.value = $3)
    UNION ALL
    (SELECT i.contact_id FROM contact_identities i
     JOIN unnest($12::text[], $13::text[]) WITH ORDINALITY AS x(kind, value, n) ON i.kind = x.kind AND i.value = x.value
     WHERE i.org_id = $1 ORDER BY x.n LIMIT 1)
    LIMIT 1
), made AS (
    INSERT INTO contacts (org_id, name, phone)
    SELECT $1, $4, nullif($3, '') WHERE NOT EXISTS (SELECT 1 FROM found) AND NOT EXISTS (SELECT 1 FROM dup)
    ON CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO NOTHING
    RETURNING id
), claimed AS (
    INSERT INTO contact_identities (org_id, contact_id, kind, value)
    SELECT $1, made.id, x.kind, x.value FROM made, unnest($12::text[], $13::text[]) AS x(kind, value)
    ON CONFLICT (org_id, kind, value) DO NOTHING
    RETURNING kind
), contact AS (
    SELECT id FROM found
    UNION ALL
    -- A new contact known by no phone holds only while it won its first identity.
    SELECT id FROM made WHERE $3 <> '' OR cardinality($12::text[]) = 0
        OR EXISTS (SELECT 1 FROM claimed WHERE claimed.kind = ($12::text[])[1])
), made_event AS (
    INSERT INTO contact_events (org_id, contact_id, kind, data)
    SELECT $1, id, 'created', '{"source":"inbound"}' FROM made
), conv AS (
    -- A channel with a bot gives its new conversations to the bot, and a closed one the
    -- customer reopens goes back to it unless an agent stopped it there.
    INSERT INTO conversations AS v (org_id, channel_id, contact_id, last_message_at, last_inbound_at, preview, unread, owner)
    SELECT $1, $2, contact.id, $9, $9, $10, 1,
           CASE WHEN (SELECT persona_id FROM channels WHERE org_id = $1 AND id = $2) IS NULL THEN 'human' ELSE 'bot' END
    FROM contact WHERE NOT EXISTS (SELECT 1 FROM dup)
    ON CONFLICT (channel_id, contact_id) DO UPDATE SET
        status = CASE WHEN v.status = 'closed' THEN 'open' ELSE v.status END,
        owner = CASE WHEN v.owner <> 'closed' THEN v.owner
                     WHEN NOT v.bot_stopped AND coalesce(v.persona_id,
                          (SELECT persona_id FROM channels WHERE org_id = $1 AND id = $2)) IS NOT NULL THEN 'bot'
                     ELSE 'human' END,
        unread = v.unread + 1,
        preview = CASE WHEN excluded.last_message_at >= v.last_message_at THEN excluded.preview ELSE v.preview END,
        last_message_at = greatest(v.last_message_at, excluded.last_message_at),
        last_inbound_at = greatest(coalesce(v.last_inbound_at, excluded.last_inbound_at), excluded.last_inbound_at)
    RETURNING id, (xmax = 0) AS created, assignee_id, owner
), msg AS (
    INSERT INTO messages (org_id, conversation_id, channel_id, direction, kind, body, content, provider_id, status, created_at)
    SELECT $1, conv.id, $2, 'in', $6, $7, $8, nullif($5, ''), 'received', $9 FROM conv
    ON CONFLICT (channel_id, provider_id) WHERE provider_id IS NOT NULL DO NOTHING
    RETURNING id, conversation_id
), ev AS (
    INSERT INTO events (org_id, type, payload)
    SELECT $1, $11, jsonb_build_object('message_id', msg.id, 'conversation_id', msg.conversation_id,
                                       'contact_id', contact.id, 'channel_id', $2::bigint)
    FROM msg, contact
    RETURNING id
)
SELECT coalesce(contact.id, 0) AS contact_id,
       EXISTS (SELECT 1 FROM dup) AS duplicate,
       coalesce((SELECT id FROM conv), 0) AS conversation_id,
       coalesce((SELECT created FROM conv), false) AS conversation_created,
       coalesce((SELECT assignee_id FROM conv), 0) AS assignee_id,
       coalesce((SELECT owner FROM conv), '') AS owner,
       coalesce((SELECT id FROM msg), 0) AS message_id,
       coalesce((SELECT count(pg_notify('masteria_events', json_build_object('id', ev.id, 'org_id', $1::bigint)::text)) FROM ev), 0) AS notified,
       -- Whether a conversation with nobody on it is handed out in turn (inbox settings).
       coalesce((SELECT round_robin FROM org_inbox_settings WHERE org_id = $1), false) AS round_robin
FROM (SELECT 1) one LEFT JOIN contact ON true;

-- name: contacts-matching
-- The contacts a conversation search matches, when there are few (see Store.Conversations).
SELECT id FROM contacts WHERE org_id = $1 AND search LIKE fold($2) LIMIT $3;

-- name: conversations-open-many
-- The conversations of many contacts on a channel, created on first contact (a campaign's
-- batch). A closed one stays closed until the customer answers: a mass send does not fill
-- the agents' open list.
INSERT INTO conversations (org_id, channel_id, contact_id, owner)
SELECT $1, $2, contact_id,
       CASE WHEN (SELECT persona_id FROM channels WHERE org_id = $1 AND id = $2) IS NULL THEN 'human' ELSE 'bot' END
FROM unnest($3::bigint[]) AS contact_id
ON CONFLICT (channel_id, contact_id) DO UPDATE SET status = conversations.status
RETURNING id, contact_id, last_inbound_at;

-- name: messages-queue-many
-- Queued outbound messages, one per conversation of a batch.
INSERT INTO messages (org_id, conversation_id, channel_id, direction, kind, body, content, status, created_at)
SELECT $1, u.conversation_id, $2, 'out', u.kind, u.body, u.content, 'queued', now()
FROM unnest($3::bigint[], $4::text[], $5::text[], $6::jsonb[]) AS u(conversation_id, kind, body, content)
RETURNING id, conversation_id;

-- name: messages-sent-many
-- The provider took these queued messages; one a status report already moved stays.
UPDATE messages m SET status = 'sent', provider_id = u.provider_id, status_at = now()
FROM unnest($2::bigint[], $3::text[]) AS u(id, provider_id)
WHERE m.org_id = $1 AND m.id = u.id AND m.status = 'queued';

-- name: messages-failed-many
UPDATE messages m SET status = 'failed', error_code = u.code, error_title = u.title, status_at = now()
FROM unnest($2::bigint[], $3::text[], $4::text[]) AS u(id, code, title)
WHERE m.org_id = $1 AND m.id = u.id AND m.status IN ('queued', 'sent');

-- name: conversations-touch-many
-- After a batch of outbound messages: each conversation's time and preview line.
UPDATE conversations v SET last_message_at = greatest(v.last_message_at, now()), preview = u.preview
FROM unnest($2::bigint[], $3::text[]) AS u(id, preview)
WHERE v.org_id = $1 AND v.id = u.id;

-- name: messages-unknown
-- Of many status reports, the ones whose provider id no message has (yet): by position.
SELECT u.i FROM unnest($1::bigint[], $2::bigint[], $3::text[]) WITH ORDINALITY AS u(org_id, channel_id, provider_id, i)
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.org_id = u.org_id AND m.channel_id = u.channel_id AND m.provider_id = u.provider_id);

-- name: messages-by-ref-many
-- Reports that name our send by its Ref while its provider id was never stored (the
-- answer was lost): each queued message takes the provider's id.
UPDATE messages m SET provider_id = u.provider_id, status = 'sent', status_at = now()
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS u(org_id, channel_id, id, provider_id)
WHERE m.org_id = u.org_id AND m.channel_id = u.channel_id AND m.id = u.id AND m.direction = 'out'
  AND m.status = 'queued' AND m.provider_id IS NULL
RETURNING m.id, m.org_id, m.conversation_id, m.provider_id;

-- name: statuses-lock
-- The rows a batch of status reports may write, locked before anything is written: the
-- messages (by provider id, or by the Ref of a send whose answer was lost) in id order, then
-- their campaign recipients in id order, as a runner's record of its sends does (sends-lock),
-- so the two never deadlock. ARRAY() reads, and locks, every message before the first
-- recipient is read.
SELECT r.id FROM campaign_recipients r
WHERE r.org_id = ANY($1::bigint[]) AND r.message_id = ANY(ARRAY(
    SELECT m.id FROM messages m
    WHERE m.org_id = ANY($1::bigint[]) AND m.direction = 'out' AND m.id IN (
        SELECT p.id FROM messages p
        JOIN unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(org_id, channel_id, provider_id)
          ON p.org_id = u.org_id AND p.channel_id = u.channel_id AND p.provider_id = u.provider_id
        UNION ALL
        SELECT p.id FROM messages p
        JOIN unnest($1::bigint[], $2::bigint[], $4::bigint[]) AS u(org_id, channel_id, id)
          ON p.org_id = u.org_id AND p.channel_id = u.channel_id AND p.id = u.id)
    ORDER BY m.id FOR UPDATE OF m))
ORDER BY r.id FOR UPDATE OF r;

-- name: messages-status-many
-- Many status reports at once, one per message (the furthest of the batch): statuses only
-- move forward, and failed ends a send unless it was already delivered or read.
UPDATE messages m SET status = u.status, error_code = u.code, error_title = u.title, status_at = now()
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
     AS u(org_id, channel_id, provider_id, status, code, title)
WHERE m.org_id = u.org_id AND m.channel_id = u.channel_id AND m.provider_id = u.provider_id AND m.direction = 'out'
  AND (CASE u.status WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'failed' THEN 5 ELSE 0 END)
    > (CASE m.status WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'failed' THEN 9 ELSE 0 END)
  AND NOT (u.status = 'failed' AND m.status IN ('delivered', 'read'))
RETURNING m.id, m.org_id, m.conversation_id, m.status, m.error_code, m.error_title;

-- name: early-statuses-insert-many
INSERT INTO early_statuses (org_id, channel_id, provider_id, status, error_code, error_title)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
ON CONFLICT DO NOTHING;
