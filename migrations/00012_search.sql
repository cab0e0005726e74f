-- Search that Brazilians can use: accents and case never matter ("joao" finds João,
-- "ORCAMENTO" finds "orçamento"), and the inbox finds message text.
--
-- fold(x) is the one folding every search compares with: lower-case, accents off (the unaccent
-- extension's rules). unaccent() is only STABLE (its dictionary could be changed), so these
-- wrappers are declared IMMUTABLE to be usable in generated columns and indexes; they are
-- SQL-standard bodies, bound to the extension's objects when created, so no search_path at
-- run time (a restore, another schema) changes what they call.
--
-- pt_unaccent is Portuguese full-text search (stemming, stop words) over unaccented words:
-- "orçamentos" and "ORCAMENTO" both become 'orcament'.
--
-- messages.search holds each message's words, GIN-indexed with its org first (btree_gin,
-- 00002). contacts.search (trigram-indexed) and leads.search hold folded text for substring
-- search.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE FUNCTION fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(unaccent('unaccent'::regdictionary, $1));

CREATE TEXT SEARCH CONFIGURATION pt_unaccent (COPY = pg_catalog.portuguese);
ALTER TEXT SEARCH CONFIGURATION pt_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;

-- A text's searchable words.
CREATE FUNCTION search_doc(text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('pt_unaccent'::regconfig, coalesce($1, ''));

-- What a person typed as a full-text query: words, "quoted phrases", OR, -excluded.
CREATE FUNCTION search_query(text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN websearch_to_tsquery('pt_unaccent'::regconfig, coalesce($1, ''));

-- A short extract of body around what q matched, each match between U+E000 and U+E001
-- (private-use characters the inbox turns into highlights; escaping stays the view's job).
CREATE FUNCTION search_headline(body text, q text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ts_headline('pt_unaccent'::regconfig, coalesce(body, ''), search_query(q),
        'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=14, MinWords=6, ShortWord=2');

-- Whether haystack contains needle, both folded; needle is plain text (no LIKE wildcards).
CREATE FUNCTION fold_contains(haystack text, needle text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN fold(coalesce(haystack, '')) LIKE
        '%' || replace(replace(replace(fold(coalesce(needle, '')), '\', '\\'), '%', '\%'), '_', '\_') || '%';

ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (search_doc(body)) STORED;
CREATE INDEX messages_search ON messages USING gin (org_id, search);

ALTER TABLE contacts DROP COLUMN search;
ALTER TABLE contacts ADD COLUMN search text
    GENERATED ALWAYS AS (fold(name || ' ' || coalesce(phone, '') || ' ' || coalesce(email, ''))) STORED;
CREATE INDEX contacts_search ON contacts USING gin (org_id, search gin_trgm_ops);

ALTER TABLE leads ADD COLUMN search text GENERATED ALWAYS AS (fold(title)) STORED;

-- +goose Down
ALTER TABLE leads DROP COLUMN search;
ALTER TABLE contacts DROP COLUMN search;
ALTER TABLE contacts ADD COLUMN search text
    GENERATED ALWAYS AS (lower(name || ' ' || coalesce(phone, '') || ' ' || coalesce(email, ''))) STORED;
CREATE INDEX contacts_search ON contacts USING gin (org_id, search gin_trgm_ops);
ALTER TABLE messages DROP COLUMN search;
DROP FUNCTION fold_contains(text, text);
DROP FUNCTION search_headline(text, text);
DROP FUNCTION search_query(text);
DROP FUNCTION search_doc(text);
DROP TEXT SEARCH CONFIGURATION pt_unaccent;
DROP FUNCTION fold(text);
DROP EXTENSION IF EXISTS unaccent;
