-- The org's labels as a list of their own: the inbox reads them on every list (filter menu,
-- suggestions), and collecting them from the conversations read every labelled one — 7 ms
-- per request at 100,000 conversations with a fifth labelled (BenchmarkInboxList).
-- A label is listed when a conversation gets it and dropped when the last one loses it.

-- +goose Up
CREATE TABLE org_labels (
    org_id bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    label  text NOT NULL,
    PRIMARY KEY (org_id, label)
);
INSERT INTO org_labels (org_id, label)
SELECT DISTINCT org_id, l FROM conversations, unnest(labels) AS l ON CONFLICT DO NOTHING;
DROP INDEX IF EXISTS conversations_labelled;

-- +goose Down
CREATE INDEX conversations_labelled ON conversations (org_id) INCLUDE (labels) WHERE labels <> '{}';
DROP TABLE org_labels;
