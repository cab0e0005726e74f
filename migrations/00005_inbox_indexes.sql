-- Indexes the inbox needs at scale, found with BenchmarkInboxList (app/web/inbox_bench_test.go)
-- on an org of 100,000 conversations and 1,000,000 messages, by EXPLAIN ANALYZE:
--
-- conversations_recent: the list with status "any" (no status predicate) could not use
--   conversations_list, whose second column is status, so it read and joined every conversation
--   of the org and sorted them for the top 31 (~70 ms, p95 160 ms through the handler). With
--   (org_id, last_message_at, id) it reads the first page off the index (< 1 ms).
-- conversations_contact: a search finds a few hundred contacts by trigram, but nothing led from
--   a contact to its conversations (the unique key starts with channel_id), so the planner
--   hash-joined them against a sequential scan of all the org's conversations (~20 ms). It also
--   serves the ON DELETE CASCADE from contacts, which scanned the whole table per deleted contact.
-- conversations_unread: the title badge's unread total (conversations-unread, on every list
--   and page) scanned every row of the table (~15 ms at 100,000); this partial covering index
--   holds only the conversations with unread messages that are not closed (the query asks for
--   exactly those), so the sum is an index-only scan of a small index.
--
-- Not built CONCURRENTLY: a concurrent build waits for every open snapshot, including a
-- second `masteria migrate` waiting on the migration lock, and the two would wait forever.

-- +goose Up
CREATE INDEX IF NOT EXISTS conversations_recent ON conversations (org_id, last_message_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS conversations_contact ON conversations (org_id, contact_id);
CREATE INDEX IF NOT EXISTS conversations_unread ON conversations (org_id, assignee_id) INCLUDE (unread) WHERE unread > 0 AND status <> 'closed';

-- +goose Down
DROP INDEX IF EXISTS conversations_unread;
DROP INDEX IF EXISTS conversations_contact;
DROP INDEX IF EXISTS conversations_recent;
