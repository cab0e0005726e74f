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
-- messages.search holds each message's words (for the extract of a match);
-- conversations.search every word its messages ever used, without positions: the inbox list
-- searches it, GIN-indexed with the org first (btree_gin, 00002), so a search never reads
-- the messages table to find its conversations. Reading matched messages for their
-- conversation was one random read per message (25 ms for a word a thousand messages of a
-- million hold, far more for a common one; BenchmarkInboxList). A trigger keeps it, adding
-- only words the conversation had not used yet. contacts.search (trigram-indexed) and
-- leads.search hold folded text for substring search.

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

-- The same words as search_query(q) but in any order and any message, for the
-- conversation's position-less words: "bolo de chocolate" there is bolo & chocolate.
CREATE FUNCTION search_query_words(text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN regexp_replace(search_query($1)::text, '<(-|[0-9]+)>', '&', 'g')::tsquery;

-- The union of position-less word lists.
CREATE AGGREGATE search_union(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');

-- Whether haystack contains needle, both folded; needle is plain text (no LIKE wildcards).
CREATE FUNCTION fold_contains(haystack text, needle text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN fold(coalesce(haystack, '')) LIKE
        '%' || replace(replace(replace(fold(coalesce(needle, '')), '\', '\\'), '%', '\%'), '_', '\_') || '%';

ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (search_doc(body)) STORED;

ALTER TABLE conversations ADD COLUMN search tsvector NOT NULL DEFAULT '';
-- Each conversation's words, at most 20,000 of them like the trigger below allows.
UPDATE conversations v SET search = m.words
FROM (SELECT w.conversation_id, array_to_tsvector((array_agg(DISTINCT w.lexeme))[1:20000]) AS words
      FROM (SELECT conversation_id, unnest(tsvector_to_array(search)) AS lexeme FROM messages) w
      GROUP BY w.conversation_id) m
WHERE m.conversation_id = v.id;
CREATE INDEX conversations_search ON conversations USING gin (org_id, search);

-- A conversation stops learning words at 20,000 of them (a tsvector holds at most 1 MB; a
-- message must never fail to be stored because its conversation's list is full).
-- +goose StatementBegin
CREATE FUNCTION conversation_learns_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET search = search || strip(NEW.search)
    WHERE org_id = NEW.org_id AND id = NEW.conversation_id
      AND NOT tsvector_to_array(NEW.search) <@ tsvector_to_array(search)
      AND length(search) < 20000;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER conversation_learns_words AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.search <> ''::tsvector) EXECUTE FUNCTION conversation_learns_words();

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
DROP TRIGGER conversation_learns_words ON messages;
DROP FUNCTION conversation_learns_words();
ALTER TABLE conversations DROP COLUMN search;
ALTER TABLE messages DROP COLUMN search;
DROP AGGREGATE search_union(tsvector);
DROP FUNCTION search_query_words(text);
DROP FUNCTION fold_contains(text, text);
DROP FUNCTION search_headline(text, text);
DROP FUNCTION search_query(text);
DROP FUNCTION search_doc(text);
DROP TEXT SEARCH CONFIGURATION pt_unaccent;
DROP FUNCTION fold(text);
DROP EXTENSION IF EXISTS unaccent;
