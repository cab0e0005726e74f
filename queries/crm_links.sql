-- Queries that tie contacts, conversations and leads together: the contact page as the
-- person's home.

-- name: contact-conversations
-- A contact's conversations the member may see ($3: an agent restricted to their own and
-- unassigned ones, 0 for everyone), the latest first.
SELECT v.id, v.org_id, v.channel_id, v.contact_id, c.name AS contact_name, c.phone AS contact_phone, v.status,
       v.assignee_id, v.unread, v.last_message_at, v.last_inbound_at, v.preview, to_json(v.labels) AS labels, v.created_at,
       v.owner, v.persona_id, v.bot_stopped, v.bot_turns, v.bot_read_to, v.handover_reason, v.handover_summary, v.handover_at
FROM conversations v JOIN contacts c ON c.id = v.contact_id AND c.org_id = $1
WHERE v.org_id = $1 AND v.contact_id = $2 AND ($3::bigint = 0 OR v.assignee_id IS NULL OR v.assignee_id = $3)
ORDER BY v.last_message_at DESC, v.id DESC LIMIT 20;

-- name: contact-timeline
-- Everything that happened to a contact, newest first, after the line ($3 time, $6 source,
-- $7 id) that ended the previous page when $3 is not null:
-- its own events (created, edits, tags, owner, opt-outs, imports, lead moves), each
-- conversation with its last messages, and the conversations' internal notes. Each source
-- is one UNION ALL branch with the same columns, so more (merges, campaigns, calls) join
-- the same way. $5 restricts conversations and notes as contact-conversations does.
-- Campaign sends (src 3) are one line per recipient that got somewhere (not skipped, not
-- waiting), at the time of its latest step; found campaign by campaign through the
-- (campaign_id, contact_id) key, since a send that failed at once has no sent_at for the
-- contact index.
SELECT t.id, t.org_id, t.contact_id, t.kind, t.actor_id, t.actor_name, t.data, t.created_at, t.src FROM (
    SELECT e.id, e.org_id, e.contact_id, e.kind, e.actor_id, u.name AS actor_name, e.data::jsonb AS data, e.created_at, 0 AS src
    FROM contact_events e LEFT JOIN users u ON u.id = e.actor_id
    WHERE e.org_id = $1 AND e.contact_id = $2
  UNION ALL
    SELECT v.id, v.org_id, v.contact_id, 'conversation', NULL::bigint, NULL::text,
           jsonb_build_object('conversation_id', v.id, 'channel_name', ch.name, 'channel_kind', ch.kind, 'status', v.status,
               'messages', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('direction', last.direction, 'kind', last.kind, 'body', left(last.body, 300),
                                                       'at', last.created_at) ORDER BY last.id)
                   FROM (SELECT m.id, m.direction, m.kind, m.body, m.created_at FROM messages m
                         WHERE m.org_id = $1 AND m.conversation_id = v.id AND m.direction <> 'note'
                         ORDER BY m.id DESC LIMIT 3) last), '[]'::jsonb)),
           v.last_message_at, 1
    FROM conversations v JOIN channels ch ON ch.id = v.channel_id AND ch.org_id = $1
    WHERE v.org_id = $1 AND v.contact_id = $2 AND ($5::bigint = 0 OR v.assignee_id IS NULL OR v.assignee_id = $5)
  UNION ALL
    SELECT n.id, n.org_id, v.contact_id, 'note', n.sender_id, u.name,
           jsonb_build_object('conversation_id', v.id, 'body', left(n.body, 500)), n.created_at, 2
    FROM messages n
    JOIN conversations v ON v.id = n.conversation_id AND v.org_id = $1
    LEFT JOIN users u ON u.id = n.sender_id
    WHERE n.org_id = $1 AND n.direction = 'note' AND v.contact_id = $2
      AND ($5::bigint = 0 OR v.assignee_id IS NULL OR v.assignee_id = $5)
  UNION ALL
    SELECT r.id, r.org_id, r.contact_id, 'campaign', NULL::bigint, NULL::text,
           jsonb_build_object('campaign_id', cp.id, 'campaign_name', cp.name, 'status', r.status,
               'error_code', r.error_code, 'error_title', r.error_title),
           coalesce(CASE r.status WHEN 'sent' THEN r.sent_at WHEN 'delivered' THEN r.delivered_at
               WHEN 'read' THEN r.read_at WHEN 'replied' THEN r.replied_at ELSE r.failed_at END, r.updated_at), 3
    FROM campaigns cp
    JOIN LATERAL (SELECT r.id, r.org_id, r.contact_id, r.status, r.error_code, r.error_title, r.sent_at, r.delivered_at,
                         r.read_at, r.replied_at, r.failed_at, r.updated_at
                  FROM campaign_recipients r
                  WHERE r.org_id = $1 AND r.campaign_id = cp.id AND r.contact_id = $2
                    AND r.status IN ('sent', 'delivered', 'read', 'replied', 'failed', 'capped')) r ON true
    WHERE cp.org_id = $1
) t
WHERE ($3::timestamptz IS NULL OR (t.created_at, t.src, t.id) < ($3, $6::int, $7::bigint))
ORDER BY t.created_at DESC, t.src DESC, t.id DESC LIMIT $4;

-- name: org-setup
-- What an org has done, for the home page's checklist.
SELECT EXISTS (SELECT 1 FROM channels ch WHERE ch.org_id = $1) AS channel,
       EXISTS (SELECT 1 FROM contacts c WHERE c.org_id = $1) AS contacts,
       EXISTS (SELECT 1 FROM messages m WHERE m.org_id = $1 AND m.direction = 'out') AS first_message;
