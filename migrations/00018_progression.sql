-- Lead progression: the AI reads a lead's conversations and says which stage of its
-- pipeline it belongs in, with a confidence and a reason.
--
-- A pipeline turns it on (pipeline_ai) with a confidence threshold. At or above the
-- threshold the card moves by itself; below it the card shows a suggestion that a person
-- accepts or dismisses. Each AI move and each suggestion is one row of lead_ai_decisions:
-- a move keeps the lead_moves row it wrote, so an undo can tell whether the lead moved
-- since (only the latest move of a lead can be undone). A dismissed suggestion or an undone
-- move stops the AI proposing that stage again for a while (app/ai/progression).
-- lead_ai_checks keeps, per lead, the newest message the last classification read, so a
-- retried or repeated job does not ask the model again about the same conversation.

-- +goose Up
-- The rows below point at (id, org_id) together, so they can only belong to their own org.
CREATE UNIQUE INDEX pipelines_id_org ON pipelines (id, org_id);
CREATE UNIQUE INDEX leads_id_org ON leads (id, org_id);

CREATE TABLE pipeline_ai (
    pipeline_id bigint PRIMARY KEY,
    org_id      bigint NOT NULL,
    enabled     boolean NOT NULL DEFAULT false,
    threshold   numeric(3, 2) NOT NULL DEFAULT 0.80 CHECK (threshold BETWEEN 0.50 AND 1.00),
    updated_by  bigint REFERENCES users ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (pipeline_id, org_id) REFERENCES pipelines (id, org_id) ON DELETE CASCADE
);
CREATE INDEX pipeline_ai_enabled ON pipeline_ai (org_id, pipeline_id) WHERE enabled;

CREATE TABLE lead_ai_decisions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL,
    lead_id       bigint NOT NULL,
    pipeline_id   bigint NOT NULL,
    -- move: the AI moved the card (applied, or undone by a person);
    -- suggestion: below the threshold (open, then accepted, dismissed or superseded).
    kind          text NOT NULL CHECK (kind IN ('move', 'suggestion')),
    status        text NOT NULL CHECK (status IN ('applied', 'undone', 'open', 'accepted', 'dismissed', 'superseded')),
    from_stage_id bigint REFERENCES stages ON DELETE SET NULL,
    to_stage_id   bigint REFERENCES stages ON DELETE SET NULL,
    -- Stage names are copied so the history still reads after a rename or a delete.
    from_name     text NOT NULL DEFAULT '',
    to_name       text NOT NULL DEFAULT '',
    confidence    real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    reason        text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    model         text NOT NULL DEFAULT '',
    -- The change of stage it made: the AI's move, or a person's accepted suggestion.
    lead_move_id  bigint REFERENCES lead_moves ON DELETE SET NULL,
    decided_by    bigint REFERENCES users ON DELETE SET NULL,
    decided_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'move') = (status IN ('applied', 'undone'))),
    FOREIGN KEY (lead_id, org_id) REFERENCES leads (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (pipeline_id, org_id) REFERENCES pipelines (id, org_id) ON DELETE CASCADE
);
-- A lead has at most one open suggestion: a newer one supersedes it.
CREATE UNIQUE INDEX lead_ai_decisions_open ON lead_ai_decisions (lead_id) WHERE status = 'open';
CREATE INDEX lead_ai_decisions_lead ON lead_ai_decisions (org_id, lead_id, id DESC);
CREATE INDEX lead_ai_decisions_pipeline_open ON lead_ai_decisions (org_id, pipeline_id, id DESC) WHERE status = 'open';
CREATE INDEX lead_ai_decisions_move ON lead_ai_decisions (lead_move_id) WHERE lead_move_id IS NOT NULL;

CREATE TABLE lead_ai_checks (
    lead_id    bigint PRIMARY KEY,
    org_id     bigint NOT NULL,
    -- The newest message of the lead's conversations the last classification read.
    message_id bigint NOT NULL DEFAULT 0,
    -- What the model said, whatever came of it.
    stage_name text NOT NULL DEFAULT '',
    confidence real NOT NULL DEFAULT 0,
    reason     text NOT NULL DEFAULT '',
    checked_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (lead_id, org_id) REFERENCES leads (id, org_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE lead_ai_checks;
DROP TABLE lead_ai_decisions;
DROP TABLE pipeline_ai;
DROP INDEX leads_id_org;
DROP INDEX pipelines_id_org;
