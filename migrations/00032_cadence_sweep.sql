-- Cadences' sweep (app/campaign/cadence): running enrolments by when their step was due,
-- so the periodic sweep finds those whose step job died with its process (kill -9) without
-- reading every enrolment.

-- +goose Up
CREATE INDEX cadence_enrolments_due ON cadence_enrolments ((COALESCE(due_at, step_at))) WHERE status = 'active';

-- +goose Down
DROP INDEX cadence_enrolments_due;
