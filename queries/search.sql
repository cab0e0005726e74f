-- Full-text search of message text (migration 00012: messages.search, search_query(),
-- search_headline()).

-- name: conversations-with-text
-- The conversations whose messages match the search $2, when few messages do: at most $3
-- matching messages are read (see Store.Conversations).
SELECT DISTINCT conversation_id FROM (
    SELECT conversation_id FROM messages WHERE org_id = $1 AND search @@ search_query($2) LIMIT $3
) m;

-- name: conversation-snippets
-- For each conversation of $2, an extract of its newest message matching the search $3.
SELECT v.id, search_headline(m.body, $3) AS snippet
FROM unnest($2::bigint[]) AS v(id)
CROSS JOIN LATERAL (
    SELECT m.body FROM messages m
    WHERE m.org_id = $1 AND m.conversation_id = v.id AND m.search @@ search_query($3)
    ORDER BY m.id DESC LIMIT 1
) m;
