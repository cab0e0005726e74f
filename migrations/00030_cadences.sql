-- Cadences: follow-ups that run by themselves (app/model/cadence.go).
--
-- cadences holds what a cadence is and how people join and leave it; its steps are
-- versioned in cadence_versions (a graph of steps as JSON, checked by
-- model.ValidateSteps): editing a cadence that has people in it makes a new version, and
-- those enrolled stay on theirs.
--
-- cadence_enrolments is one contact's walk through one version: where it is (step_id),
-- since when, and how it ended. A contact is in a cadence once at a time.
--
-- cadence_steps is the enrolment's timeline and the engine's ledger: one row per step an
-- enrolment reached. A cadence has no loops, so an enrolment reaches a step at most once:
-- the row's key is what makes running a step twice (a retry, a crash, two instances)
-- send nothing twice.

-- +goose Up
CREATE TABLE cadences (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    current_version int NOT NULL DEFAULT 1,
    -- Who joins by themselves: the contacts of a segment (new matches join), the contacts
    -- whose lead enters a stage.
    enrol_segment_id bigint REFERENCES segments ON DELETE SET NULL,
    enrol_stage_id   bigint REFERENCES stages ON DELETE SET NULL,
    -- When an enrolment ends early. An opt-out on any channel always ends it.
    exit_on_reply        boolean NOT NULL DEFAULT true,
    exit_on_stage_change boolean NOT NULL DEFAULT false,
    goal_stage_id        bigint REFERENCES stages ON DELETE SET NULL,
    created_by      bigint REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX cadences_org ON cadences (org_id, id DESC);
CREATE INDEX cadences_enrol_stage ON cadences (org_id, enrol_stage_id) WHERE enrol_stage_id IS NOT NULL AND status = 'active';
CREATE INDEX cadences_enrol_segment ON cadences (org_id) WHERE enrol_segment_id IS NOT NULL AND status = 'active';

CREATE TABLE cadence_versions (
    org_id     bigint NOT NULL,
    cadence_id bigint NOT NULL,
    version    int NOT NULL CHECK (version >= 1),
    steps      jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
    created_by bigint REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cadence_id, version),
    FOREIGN KEY (org_id, cadence_id) REFERENCES cadences (org_id, id) ON DELETE CASCADE
);

CREATE TABLE cadence_enrolments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL,
    cadence_id   bigint NOT NULL,
    version      int NOT NULL,
    contact_id   bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    lead_id      bigint REFERENCES leads ON DELETE SET NULL,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'completed', 'exited')),
    -- The step the enrolment is at ('' once it ended) and when it is due (a wait's end,
    -- an await's time limit).
    step_id      text NOT NULL DEFAULT '',
    step_at      timestamptz NOT NULL DEFAULT now(),
    due_at       timestamptz,
    -- How it joined (manual, segment, stage, api) and who enrolled it; why it ended.
    source       text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'segment', 'stage', 'api')),
    enrolled_by  bigint REFERENCES users ON DELETE SET NULL,
    exit_reason  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, cadence_id) REFERENCES cadences (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (cadence_id, version) REFERENCES cadence_versions (cadence_id, version)
);
-- Once at a time: one running (or paused) enrolment per contact and cadence.
CREATE UNIQUE INDEX cadence_enrolments_once ON cadence_enrolments (cadence_id, contact_id) WHERE status IN ('active', 'paused');
-- A cadence's funnel (how many at each step) and its people.
CREATE INDEX cadence_enrolments_cadence ON cadence_enrolments (cadence_id, status, step_id);
-- A contact's cadences (its page, exits on a reply or an opt-out).
CREATE INDEX cadence_enrolments_contact ON cadence_enrolments (org_id, contact_id) WHERE status IN ('active', 'paused');

CREATE TABLE cadence_steps (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL,
    enrolment_id  bigint NOT NULL REFERENCES cadence_enrolments ON DELETE CASCADE,
    step_id       text NOT NULL,
    kind          text NOT NULL,
    -- running: claimed; waiting: a wait or an await not over; done, skipped (the contact
    -- policy held it, with the reason), failed (with the reason).
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'waiting', 'done', 'skipped', 'failed')),
    -- What came of it: a send's delivered/read/replied/failed…, a call's answered/voicemail…,
    -- an await's branch taken (the outcome it saw, or timeout).
    outcome       text NOT NULL DEFAULT '',
    message_id    bigint REFERENCES messages ON DELETE SET NULL,
    call_id       bigint REFERENCES calls ON DELETE SET NULL,
    detail        text NOT NULL DEFAULT '',
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    UNIQUE (enrolment_id, step_id)
);
CREATE INDEX cadence_steps_message ON cadence_steps (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX cadence_steps_call ON cadence_steps (call_id) WHERE call_id IS NOT NULL;

-- +goose Down
DROP TABLE cadence_steps, cadence_enrolments, cadence_versions, cadences;
