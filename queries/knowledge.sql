-- Knowledge bases, their documents and chunks, and hybrid retrieval (migration 00015).

-- name: kb-create
INSERT INTO knowledge_bases (org_id, name, description, created_by) VALUES ($1, $2, $3, $4)
RETURNING id, org_id, name, description, created_by, created_at, updated_at;

-- name: kbs
SELECT id, org_id, name, description, created_by, created_at, updated_at
FROM knowledge_bases WHERE org_id = $1 ORDER BY name, id;

-- name: kbs-page
-- A page of an org's knowledge bases in the order they were made, after id $2 (0: from the first).
SELECT id, org_id, name, description, created_by, created_at, updated_at
FROM knowledge_bases WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: kb-by-id
SELECT id, org_id, name, description, created_by, created_at, updated_at
FROM knowledge_bases WHERE org_id = $1 AND id = $2;

-- name: kb-update
UPDATE knowledge_bases SET name = $3, description = $4, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING id, org_id, name, description, created_by, created_at, updated_at;

-- name: kb-delete
-- Its documents and chunks go with it (foreign keys).
DELETE FROM knowledge_bases WHERE org_id = $1 AND id = $2;

-- name: kb-doc-create
-- A document of one of the org's knowledge bases; none when the knowledge base is not the org's.
INSERT INTO kb_documents (org_id, knowledge_base_id, title, source, source_url, file_name, content, content_hash)
SELECT b.org_id, b.id, $3, $4, $5, $6, $7, $8 FROM knowledge_bases b WHERE b.org_id = $1 AND b.id = $2
RETURNING id, org_id, knowledge_base_id, title, source, source_url, file_name, content, content_hash,
    status, error, chunks, created_at, updated_at;

-- name: kb-docs
-- A knowledge base's documents, newest first, without their text.
SELECT id, org_id, knowledge_base_id, title, source, source_url, file_name, '' AS content, content_hash,
    status, error, chunks, created_at, updated_at
FROM kb_documents WHERE org_id = $1 AND knowledge_base_id = $2 ORDER BY id DESC;

-- name: kb-docs-page
-- A page of a knowledge base's documents, newest first, older than id $3 (0: from the newest), without their text.
SELECT id, org_id, knowledge_base_id, title, source, source_url, file_name, '' AS content, content_hash,
    status, error, chunks, created_at, updated_at
FROM kb_documents WHERE org_id = $1 AND knowledge_base_id = $2 AND ($3 = 0 OR id < $3) ORDER BY id DESC LIMIT $4;

-- name: kb-doc-by-id
SELECT id, org_id, knowledge_base_id, title, source, source_url, file_name, content, content_hash,
    status, error, chunks, created_at, updated_at
FROM kb_documents WHERE org_id = $1 AND id = $2;

-- name: kb-doc-update
-- A new title and text: the document waits to be indexed again.
UPDATE kb_documents SET title = $3, content = $4, content_hash = $5, status = 'pending', error = '', updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: kb-doc-set-status
UPDATE kb_documents SET status = $3, error = $4, updated_at = now() WHERE org_id = $1 AND id = $2;

-- name: kb-doc-delete
-- Its chunks go with it (foreign key).
DELETE FROM kb_documents WHERE org_id = $1 AND id = $2;

-- name: kb-chunks-replace
-- A document's chunks become $3 (headings) and $4 (texts), in order, in one statement; the
-- document counts them. Returns the new chunks' ids in order.
WITH gone AS (
    DELETE FROM kb_chunks WHERE org_id = $1 AND document_id = $2
), added AS (
    INSERT INTO kb_chunks (org_id, knowledge_base_id, document_id, position, heading, text)
    SELECT d.org_id, d.knowledge_base_id, d.id, u.ord - 1, u.heading, u.text
    FROM kb_documents d, unnest($3::text[], $4::text[]) WITH ORDINALITY u(heading, text, ord)
    WHERE d.org_id = $1 AND d.id = $2
    RETURNING id, position
), counted AS (
    UPDATE kb_documents SET chunks = cardinality($4::text[]), updated_at = now()
    WHERE org_id = $1 AND id = $2
)
SELECT id FROM added ORDER BY position;

-- name: kb-chunks-to-embed
-- A document's chunks without an embedding of model $3, in order.
SELECT id, heading, text FROM kb_chunks
WHERE org_id = $1 AND document_id = $2 AND (embedding IS NULL OR embedding_model <> $3)
ORDER BY position;

-- name: kb-chunks-set-embeddings
-- Sets the embeddings ($3, '[…]' texts of 1536 numbers) of chunks $2 in one statement.
UPDATE kb_chunks c SET embedding = u.e::vector, embedding_model = $4
FROM unnest($2::bigint[], $3::text[]) u(id, e)
WHERE c.org_id = $1 AND c.id = u.id;

-- name: kb-search-settings
-- kb-search's settings, for its transaction only. One plan, made once per connection and kept
-- (the query takes milliseconds; planning it again for every question took longer), without
-- JIT or parallel workers (they cost more than they give on such a query). The HNSW scan keeps
-- 40 candidates (ef_search), what kb-search asks of it, and keeps scanning past the rows of
-- other orgs and knowledge bases until it has them (iterative scan, pgvector 0.8).
SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('jit', 'off', true),
    set_config('max_parallel_workers_per_gather', '0', true),
    set_config('hnsw.ef_search', '40', true), set_config('hnsw.iterative_scan', 'relaxed_order', true);

-- name: kb-search
-- The org's chunks (of knowledge bases $2; all when NULL) that best answer question $3,
-- hybrid: the top 50 by full text and the top 40 nearest to the question's embedding $4 (none
-- when NULL), fused by Reciprocal Rank Fusion: score = Σ 1/(60 + rank) over the two lists, so
-- a chunk both find comes first and neither list's score scale matters. Best $5 first.
--
-- Full text ranks like BM25: a question matches a chunk by any of its words (search_terms,
-- stop words dropped), each word weighs by its rarity among the searched chunks,
-- idf = ln(1 + (N - df + 0.5) / (df + 0.5)), times ts_rank_cd of the word in the chunk (its
-- occurrences, a heading's counting more). A word of 4 letters or more is matched by prefix
-- ("entreg:*" finds entrega, entregamos, entregador), since customers conjugate and
-- abbreviate; a shorter one only whole ("par:*" would find parcela). N and df come from
-- kb_terms (a prefix's df is the sum of its words', at most N), not from counting.
--
-- So that a question costs milliseconds among 100,000 chunks, only some chunks are ranked:
-- the candidates are the chunks that hold two of the question's 8 rarest words, or one of its
-- rarest words (those of at most 600 chunks together; the rarest always when it is in at
-- most 1,000, or when it is the only word), at most 2,000, found in the GIN index by their
-- exact words (a prefix's words listed from kb_terms: faster than a prefix scan). Of those,
-- the 100 whose words weigh most (a word in the heading ten times, then the shorter chunk)
-- are ranked exactly. A chunk with only common words of the question is not found by them.
--
-- A knowledge base of at most 1,000 chunks is searched exactly by distance; a larger one
-- through the HNSW index (the "+ 0" keeps the small one's sort off the index).
WITH kbs AS (
    SELECT b.id FROM knowledge_bases b
    WHERE b.org_id = $1 AND ($2::bigint[] IS NULL OR b.id = ANY($2::bigint[]))
), terms AS (
    SELECT t.lexeme COLLATE "C" AS lo,
        CASE WHEN length(t.lexeme) >= 4 THEN t.lexeme || chr(1114111) ELSE t.lexeme END COLLATE "C" AS hi,
        (quote_literal(t.lexeme) || CASE WHEN length(t.lexeme) >= 4 THEN ':*' ELSE '' END)::tsquery AS tq,
        (quote_literal(t.lexeme) || CASE WHEN length(t.lexeme) >= 4 THEN ':*A' ELSE ':A' END)::tsquery AS tqa
    FROM unnest(search_terms($3)) t(lexeme)
), n AS (
    SELECT greatest(coalesce(sum(s.df), 0), 1) AS chunks FROM kb_terms s
    WHERE s.org_id = $1 AND s.knowledge_base_id IN (SELECT id FROM kbs) AND s.lexeme = ''
), weighted AS (
    SELECT t.tq, t.tqa, f.words, f.df, ln(1 + (n.chunks - f.df + 0.5) / (f.df + 0.5)) AS idf,
        row_number() OVER (ORDER BY f.df, t.lo) AS r,
        coalesce(sum(f.df) OVER (ORDER BY f.df, t.lo ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS rarer
    FROM terms t CROSS JOIN n
    CROSS JOIN LATERAL (
        SELECT least(coalesce(sum(w.df), 0), n.chunks) AS df,
            '(' || array_to_string((array_agg(quote_literal(w.lexeme) ORDER BY w.df DESC, w.lexeme))[1:32], ' | ') || ')' AS words
        FROM (
            SELECT s.lexeme, sum(s.df) AS df FROM kb_terms s
            WHERE s.org_id = $1 AND s.knowledge_base_id IN (SELECT id FROM kbs)
              AND s.lexeme >= t.lo AND s.lexeme <= t.hi AND s.lexeme <> '' AND s.df > 0
            GROUP BY s.lexeme
        ) w
    ) f
    WHERE f.df > 0
), probe AS (
    SELECT nullif(concat_ws(' | ',
        (SELECT string_agg(format('(%s & %s)', a.words, b.words), ' | ')
         FROM weighted a JOIN weighted b ON a.r < b.r AND b.r <= 8),
        (SELECT string_agg(w.words, ' | ') FROM weighted w
         WHERE w.rarer + w.df <= 600 OR w.r = 1 AND (w.df <= 1000 OR (SELECT count(*) FROM weighted) = 1))
    ), '')::tsquery AS q
), candidates AS (
    SELECT c.id, c.tsv FROM kbs k CROSS JOIN probe p
    CROSS JOIN LATERAL (
        SELECT c.id, c.tsv FROM kb_chunks c
        WHERE c.org_id = $1 AND c.knowledge_base_id = k.id AND c.tsv @@ p.q
        LIMIT 2000
    ) c
), likely AS (
    SELECT c.id, c.tsv FROM candidates c
    ORDER BY (SELECT sum(w.idf * CASE WHEN c.tsv @@ w.tqa THEN 10 ELSE 1 END) FROM weighted w WHERE c.tsv @@ w.tq) DESC,
        length(c.tsv), c.id
    LIMIT 100
), lexical AS (
    SELECT x.id, x.rank, row_number() OVER (ORDER BY x.rank DESC, x.id) AS pos
    FROM (
        SELECT c.id, (SELECT sum(w.idf * ts_rank_cd(c.tsv, w.tq)) FROM weighted w WHERE c.tsv @@ w.tq) AS rank
        FROM likely c ORDER BY rank DESC, c.id LIMIT 50
    ) x
), nearest AS MATERIALIZED (
    (SELECT c.id, c.embedding <=> $4::vector AS distance
     FROM kb_chunks c
     WHERE $4::vector IS NOT NULL AND (SELECT n.chunks FROM n) <= 1000
       AND c.org_id = $1 AND c.knowledge_base_id = ANY (ARRAY(SELECT id FROM kbs)) AND c.embedding IS NOT NULL
     ORDER BY (c.embedding <=> $4::vector) + 0
     LIMIT 40)
    UNION ALL
    (SELECT c.id, c.embedding <=> $4::vector AS distance
     FROM kb_chunks c
     WHERE $4::vector IS NOT NULL AND (SELECT n.chunks FROM n) > 1000
       AND c.org_id = $1 AND c.knowledge_base_id IN (SELECT id FROM kbs) AND c.embedding IS NOT NULL
     ORDER BY c.embedding <=> $4::vector
     LIMIT 40)
), vector AS (
    SELECT v.id, v.distance, row_number() OVER (ORDER BY v.distance, v.id) AS pos FROM nearest v
), fused AS (
    SELECT coalesce(l.id, v.id) AS id, coalesce(l.rank, 0) AS rank, v.distance,
        coalesce(1.0 / (60 + l.pos), 0) + coalesce(1.0 / (60 + v.pos), 0) AS score
    FROM lexical l FULL JOIN vector v ON v.id = l.id
    ORDER BY score DESC, id
    LIMIT $5
)
SELECT c.id, c.document_id, d.title, c.heading, c.text,
    f.rank::float8 AS lexical_rank, f.distance::float8 AS vector_distance, f.score::float8 AS score
FROM fused f
JOIN kb_chunks c ON c.org_id = $1 AND c.id = f.id
JOIN kb_documents d ON d.org_id = $1 AND d.id = c.document_id
ORDER BY f.score DESC, c.id;

-- name: kb-doc-file-set
-- The uploaded file of one of the org's documents, whose text the index job reads.
INSERT INTO kb_document_files (org_id, document_id, data)
SELECT d.org_id, d.id, $3 FROM kb_documents d WHERE d.org_id = $1 AND d.id = $2
ON CONFLICT (org_id, document_id) DO UPDATE SET data = excluded.data, created_at = now();

-- name: kb-doc-file
SELECT data FROM kb_document_files WHERE org_id = $1 AND document_id = $2;

-- name: kb-doc-file-delete
DELETE FROM kb_document_files WHERE org_id = $1 AND document_id = $2;
