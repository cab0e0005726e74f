-- A member mentioned in an internal note ("@Ana" in the inbox composer's note mode): the
-- agent's "my day" lists the mentions, unseen first, and opening the conversation marks
-- them seen. Who a note mentions is worked out once, when the note is written
-- (model.Mentions), so renaming a member later does not move old mentions.

-- +goose Up
CREATE TABLE note_mentions (
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    message_id bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz,
    PRIMARY KEY (message_id, user_id)
);
-- My day: a member's mentions, unseen first, newest first.
CREATE INDEX note_mentions_user ON note_mentions (org_id, user_id, (seen_at IS NOT NULL), created_at DESC);

-- +goose Down
DROP TABLE note_mentions;
