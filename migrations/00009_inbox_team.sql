-- The inbox's team features: the org's inbox settings (who sees what, round-robin), the
-- rotation of members that round-robin assigns to, conversation labels and quick replies.

-- +goose Up
-- One row per org, created on first save; no row reads as the defaults (agents see only
-- their own and unassigned conversations, no automatic assignment).
CREATE TABLE org_inbox_settings (
    org_id          bigint PRIMARY KEY REFERENCES orgs ON DELETE CASCADE,
    restrict_agents boolean NOT NULL DEFAULT true,
    round_robin     boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Round-robin gives a new conversation to the member in the rotation assigned longest ago.
-- in_rotation NULL means "by role": agents take part, managers and above do not, so a new
-- agent joins the rotation without anyone ticking a box.
ALTER TABLE memberships ADD COLUMN in_rotation boolean;
ALTER TABLE memberships ADD COLUMN last_assigned_at timestamptz;

-- The label filter (labels @> ARRAY[$label]) within one org; btree_gin (00002) puts org_id
-- in the GIN index.
CREATE INDEX conversations_labels ON conversations USING gin (org_id, labels);
-- The labels in use (filter menu, suggestions) read only the labelled conversations.
CREATE INDEX conversations_labelled ON conversations (org_id) INCLUDE (labels) WHERE labels <> '{}';

CREATE TABLE quick_replies (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    -- Typed after "/" in the composer: lower-case letters, digits, "-" and "_".
    shortcut   text NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]{1,32}$'),
    title      text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 80),
    body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4096),
    created_by bigint REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, shortcut)
);

-- +goose Down
DROP TABLE quick_replies;
DROP INDEX conversations_labelled;
DROP INDEX conversations_labels;
ALTER TABLE memberships DROP COLUMN last_assigned_at, DROP COLUMN in_rotation;
DROP TABLE org_inbox_settings;
