-- Deleted rows leave the figures too: a contact deleted takes its conversations and their
-- messages with it (ON DELETE CASCADE), and the rollups must not keep counting them (the
-- drill-down lists, read from the rows that remain, would no longer add up to the figure).
-- Deleted messages mark their hours; a deleted conversation's cases go at once.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION analytics_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key, at)
    SELECT DISTINCT org_id, 'messages', 0, date_trunc('hour', created_at) FROM old_rows WHERE direction <> 'note';
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_conversations_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM analytics_cases a USING old_rows o WHERE a.org_id = o.org_id AND a.conversation_id = o.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER analytics_messages_deleted AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_messages_deleted();
CREATE TRIGGER analytics_conversations_deleted AFTER DELETE ON conversations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_conversations_deleted();

-- +goose Down
DROP TRIGGER analytics_conversations_deleted ON conversations;
DROP TRIGGER analytics_messages_deleted ON messages;
DROP FUNCTION analytics_conversations_deleted();
DROP FUNCTION analytics_messages_deleted();
