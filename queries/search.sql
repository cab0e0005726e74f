-- Full-text search of message text (migration 00012: messages.search, search_query(),
-- search_headline()).

-- name: conversations-with-text
-- fragment: run as it is, but planned for each search, not prepared: how to read the
-- matches depends on the word (a common one is found scanning the table, a rare one by the
-- index), and a prepared statement's generic plan would pick one way for every word.
-- The conversation of each message matching the search $2, at most $3 of them (see
-- Store.searchConversations: more than it asks for means "many").
SELECT conversation_id FROM messages WHERE org_id = $1 AND search @@ search_query($2) LIMIT $3;

-- name: conversation-snippets
-- For each conversation of $2, an extract of its newest message matching the search $3.
SELECT v.id, search_headline(m.body, $3) AS snippet
FROM unnest($2::bigint[]) AS v(id)
CROSS JOIN LATERAL (
    SELECT m.body FROM messages m
    WHERE m.org_id = $1 AND m.conversation_id = v.id AND m.search @@ search_query($3)
    ORDER BY m.id DESC LIMIT 1
) m;
