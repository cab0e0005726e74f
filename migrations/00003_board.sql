-- The Kanban lead board: pipelines with ordered stages, leads (a contact on a pipeline)
-- ranked inside their stage by fractional-index keys, and the history of their moves.

-- +goose Up
CREATE TABLE pipelines (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    -- Lead values are in this currency (ISO 4217); column sums add them up.
    currency   text NOT NULL DEFAULT 'BRL' CHECK (currency ~ '^[A-Z]{3}$'),
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipelines_org_name ON pipelines (org_id, lower(name));
CREATE INDEX pipelines_org ON pipelines (org_id, position, id);

CREATE TABLE stages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    pipeline_id bigint NOT NULL REFERENCES pipelines ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    color       text NOT NULL DEFAULT 'gray',
    -- What a lead in this stage means, in the org's words; the AI reads it to move leads.
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 1000),
    -- open, or the end of the road: won or lost.
    outcome     text NOT NULL DEFAULT 'open' CHECK (outcome IN ('open', 'won', 'lost')),
    position    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Leads point at (stage, pipeline, org) together, so a lead can only sit in a stage of
    -- its own pipeline and org.
    UNIQUE (id, pipeline_id, org_id)
);
CREATE INDEX stages_pipeline ON stages (org_id, pipeline_id, position, id);

CREATE TABLE leads (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    pipeline_id bigint NOT NULL,
    stage_id    bigint NOT NULL,
    contact_id  bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    value_cents bigint NOT NULL DEFAULT 0 CHECK (value_cents >= 0),
    owner_id    bigint REFERENCES users ON DELETE SET NULL,
    source      text NOT NULL DEFAULT '' CHECK (char_length(source) <= 120),
    notes       text NOT NULL DEFAULT '' CHECK (char_length(notes) <= 5000),
    -- Place in the stage: fractional-index key (app/crm/rank), compared byte by byte.
    rank        text COLLATE "C" NOT NULL CHECK (rank ~ '^[A-Za-z][0-9A-Za-z]*$'),
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- The last change of stage, shown on the card.
    moved_at    timestamptz,
    moved_by    bigint REFERENCES users ON DELETE SET NULL,
    FOREIGN KEY (stage_id, pipeline_id, org_id) REFERENCES stages (id, pipeline_id, org_id)
);
-- One card per place: two moves that computed the same key cannot both commit.
CREATE UNIQUE INDEX leads_stage_rank ON leads (stage_id, rank);
CREATE INDEX leads_pipeline ON leads (org_id, pipeline_id, stage_id);
CREATE INDEX leads_contact ON leads (org_id, contact_id);
CREATE INDEX leads_owner ON leads (org_id, owner_id);

-- Every change of stage: who, when, from where to where. Stage names are copied so the
-- history still reads after a stage is renamed or deleted.
CREATE TABLE lead_moves (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    lead_id       bigint NOT NULL REFERENCES leads ON DELETE CASCADE,
    from_stage_id bigint REFERENCES stages ON DELETE SET NULL,
    to_stage_id   bigint REFERENCES stages ON DELETE SET NULL,
    from_name     text NOT NULL DEFAULT '',
    to_name       text NOT NULL DEFAULT '',
    actor_id      bigint REFERENCES users ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_moves_lead ON lead_moves (org_id, lead_id, id DESC);

-- +goose Down
DROP TABLE lead_moves, leads, stages, pipelines;
