-- Full-text search of message text (migration 00012: conversations.search, messages.search,
-- search_query(), search_query_words(), search_headline()).

-- name: search-words
-- The words of a search as the conversation list matches them; '' when it has none (only
-- stop words or punctuation).
SELECT search_query_words($1)::text;

-- name: conversation-snippets
-- For each conversation of $2 whose words match the search $3, an extract of its newest
-- message that matches it.
-- The query is parsed once (q), not once per message read.
SELECT v.id, search_headline(m.body, $3) AS snippet
FROM conversations v
CROSS JOIN (SELECT search_query($3) AS tq) q
CROSS JOIN LATERAL (
    SELECT m.body FROM messages m
    WHERE m.org_id = v.org_id AND m.conversation_id = v.id AND m.search @@ q.tq
    ORDER BY m.id DESC LIMIT 1
) m
WHERE v.org_id = $1 AND v.id = ANY($2::bigint[]) AND v.search @@ search_query_words($3);
