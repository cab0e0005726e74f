-- Lead progression reads a contact's calls too: a call's summary and transcript are
-- activity on its leads like messages are. call_id is the newest call the last
-- classification read, so a classification runs again only when a message or a call is new.

-- +goose Up
ALTER TABLE lead_ai_checks ADD COLUMN call_id bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE lead_ai_checks DROP COLUMN call_id;
