-- Knowledge bases for the AI bot: documents split into chunks, found by hybrid retrieval.
--
-- Each chunk has its words (tsv, Portuguese full-text search over unaccented words, 00012;
-- the heading path weighs more than the text) and, once an embedding model has indexed it,
-- its embedding. Full-text search always works, even with no provider; the vector search
-- joins in when an embedding model is configured (queries/knowledge.sql fuses the two).
--
-- Embeddings have one fixed size, 1536: an HNSW index needs a fixed dimension. A chunk's
-- embedding is stored only when the model returns 1536 numbers: the text-embedding-3 models
-- are asked for `dimensions: 1536` (their vectors shorten without losing meaning), and a
-- model that cannot give 1536 leaves the embedding NULL, so that knowledge base is searched
-- by full text only. Vectors are never padded or cut: the cosine of a padded vector against
-- another model's is meaningless. embedding_model names the model that made the vector: when
-- the org's embedding model changes, the chunks of another model are embedded again.

-- +goose Up
CREATE TABLE knowledge_bases (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '',
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX knowledge_bases_org ON knowledge_bases (org_id, name);

-- A document's rows always belong to the org of its knowledge base (the keys include org_id).
CREATE TABLE kb_documents (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL,
    knowledge_base_id bigint NOT NULL,
    title             text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 300),
    source            text NOT NULL DEFAULT 'text' CHECK (source IN ('text', 'file', 'url')),
    source_url        text NOT NULL DEFAULT '',   -- the page of a 'url' document
    file_name         text NOT NULL DEFAULT '',   -- the upload's name of a 'file' document
    content           text NOT NULL DEFAULT '',   -- the text the chunks are cut from
    content_hash      text NOT NULL DEFAULT '',   -- sha256 of content: an edit that changes nothing re-indexes nothing
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'indexing', 'ready', 'failed')),
    error             text NOT NULL DEFAULT '',   -- why it failed
    chunks            int NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, knowledge_base_id) REFERENCES knowledge_bases (org_id, id) ON DELETE CASCADE
);
CREATE INDEX kb_documents_kb ON kb_documents (org_id, knowledge_base_id, id);

CREATE TABLE kb_chunks (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL,
    knowledge_base_id bigint NOT NULL,
    document_id       bigint NOT NULL,
    position          int NOT NULL,              -- 0-based order in its document
    heading           text NOT NULL DEFAULT '',  -- the heading path, "Entregas > Taxas"
    text              text NOT NULL,
    tsv               tsvector GENERATED ALWAYS AS
                      (setweight(search_doc(heading), 'A') || search_doc(text)) STORED,
    embedding         vector(1536),
    embedding_model   text NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, document_id) REFERENCES kb_documents (org_id, id) ON DELETE CASCADE
);
CREATE INDEX kb_chunks_doc ON kb_chunks (org_id, knowledge_base_id, document_id, position);
-- Full-text search within one org (btree_gin, 00002, puts org_id in the GIN index).
CREATE INDEX kb_chunks_tsv ON kb_chunks USING gin (org_id, tsv);
CREATE INDEX kb_chunks_embedding ON kb_chunks USING hnsw (embedding vector_cosine_ops)
    WHERE embedding IS NOT NULL;

-- The words of a question for retrieval: each word's lexeme (pt_unaccent: stemmed, no
-- accents), without the words Portuguese or English full-text search treats as stop words
-- as they were written ("você", "the"), once each. Matching any of them is enough: a
-- customer's question shares only some of its words with the passage that answers it.
CREATE FUNCTION search_terms(text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(
        SELECT DISTINCT l.lexeme
        FROM ts_parse('default', coalesce($1, '')) p
        CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('pt_unaccent'::regconfig, p.token))) l(lexeme)
        WHERE to_tsvector('portuguese'::regconfig, p.token) <> ''::tsvector
          AND to_tsvector('english'::regconfig, p.token) <> ''::tsvector
        ORDER BY l.lexeme);

-- +goose Down
DROP FUNCTION search_terms(text);
DROP TABLE kb_chunks;
DROP TABLE kb_documents;
DROP TABLE knowledge_bases;
