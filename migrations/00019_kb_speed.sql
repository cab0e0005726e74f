-- Knowledge bases: uploaded PDF files until their text is read, and what fast full-text
-- retrieval keeps instead of counting at every search.
--
-- A PDF's text is read by the index job (kb.index), not while the upload waits: reading a
-- large file takes seconds, and a damaged or protected one must leave its document failed
-- with the reason. The file waits in kb_document_files until its text is in
-- kb_documents.content, then goes.
--
-- kb_terms holds, per knowledge base, how many of its chunks contain each lexeme (df) and, in
-- the row of the empty lexeme, how many chunks it has: what kb-search weighs a question's
-- words by (a rarer word weighs more) and picks its candidate chunks with (those of the
-- rarest words). Statement triggers on kb_chunks keep it as chunks come and go (the index
-- job, an edit, a document or a knowledge base removed). Each statement's change first locks
-- its knowledge base's row of the empty lexeme, so two jobs of one knowledge base take turns
-- instead of deadlocking. A word whose count falls to 0 keeps its row (it may come back).
-- Chunks are replaced, never edited in place: an UPDATE of a chunk only sets its embedding.

-- +goose Up
CREATE TABLE kb_document_files (
    org_id      bigint NOT NULL,
    document_id bigint NOT NULL,
    data        bytea NOT NULL CHECK (octet_length(data) <= 5242880),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, document_id),
    FOREIGN KEY (org_id, document_id) REFERENCES kb_documents (org_id, id) ON DELETE CASCADE
);

CREATE TABLE kb_terms (
    org_id            bigint NOT NULL,
    knowledge_base_id bigint NOT NULL,
    lexeme            text COLLATE "C" NOT NULL, -- C: the lexemes of a prefix are a range of the key
    df                int NOT NULL CHECK (df >= 0),
    PRIMARY KEY (org_id, knowledge_base_id, lexeme),
    FOREIGN KEY (org_id, knowledge_base_id) REFERENCES knowledge_bases (org_id, id) ON DELETE CASCADE
);

INSERT INTO kb_terms (org_id, knowledge_base_id, lexeme, df)
SELECT c.org_id, c.knowledge_base_id, l.lexeme, count(*)
FROM kb_chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv) || '{""}'::text[]) l(lexeme)
GROUP BY 1, 2, 3;

-- +goose StatementBegin
CREATE FUNCTION kb_chunks_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In key order: the knowledge base's row of the empty lexeme first.
    INSERT INTO kb_terms AS k (org_id, knowledge_base_id, lexeme, df)
    SELECT c.org_id, c.knowledge_base_id, l.lexeme, count(*)
    FROM kb_added c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv) || '{""}'::text[]) l(lexeme)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (org_id, knowledge_base_id, lexeme) DO UPDATE SET df = k.df + excluded.df;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER kb_chunks_added AFTER INSERT ON kb_chunks
    REFERENCING NEW TABLE AS kb_added FOR EACH STATEMENT EXECUTE FUNCTION kb_chunks_added();

-- +goose StatementBegin
CREATE FUNCTION kb_chunks_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A knowledge base being removed has no rows left to count down.
    PERFORM 1 FROM kb_terms k
    WHERE k.lexeme = '' AND (k.org_id, k.knowledge_base_id) IN (SELECT org_id, knowledge_base_id FROM kb_removed)
    ORDER BY k.org_id, k.knowledge_base_id
    FOR UPDATE;
    UPDATE kb_terms k SET df = greatest(k.df - g.n, 0)
    FROM (SELECT c.org_id, c.knowledge_base_id, l.lexeme, count(*) AS n
          FROM kb_removed c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv) || '{""}'::text[]) l(lexeme)
          GROUP BY 1, 2, 3) g
    WHERE k.org_id = g.org_id AND k.knowledge_base_id = g.knowledge_base_id AND k.lexeme = g.lexeme;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER kb_chunks_removed AFTER DELETE ON kb_chunks
    REFERENCING OLD TABLE AS kb_removed FOR EACH STATEMENT EXECUTE FUNCTION kb_chunks_removed();

-- Full-text search within one knowledge base of one org (btree_gin puts both in the index).
-- A short pending list: a search reads every entry not yet merged into the index (4 MB by
-- default, after a burst of indexing), and indexing still writes a document's words at once.
DROP INDEX kb_chunks_tsv;
CREATE INDEX kb_chunks_words ON kb_chunks USING gin (org_id, knowledge_base_id, tsv) WITH (gin_pending_list_limit = 256);

-- +goose Down
DROP INDEX kb_chunks_words;
CREATE INDEX kb_chunks_tsv ON kb_chunks USING gin (org_id, tsv);
DROP TRIGGER kb_chunks_removed ON kb_chunks;
DROP FUNCTION kb_chunks_removed();
DROP TRIGGER kb_chunks_added ON kb_chunks;
DROP FUNCTION kb_chunks_added();
DROP TABLE kb_terms;
DROP TABLE kb_document_files;
