-- Releasing a voice number, step by step like its set-up (Settings → Voice → Numbers):
-- release_step is the next step to run (retell → detach → credentials → origination → trunk
-- → number), '' while no release has begun. A failure keeps the step with its reason
-- (status release_failed) and "continue" resumes there; once every step is done the row is
-- deleted (calls keep their numbers and lose only the link). release_from_retell says
-- whether the number leaves Retell too: always for a number bought here, as the user
-- chose for a linked one.

-- +goose Up
ALTER TABLE voice_numbers
    ADD COLUMN release_step text NOT NULL DEFAULT ''
        CHECK (release_step IN ('', 'retell', 'detach', 'credentials', 'origination', 'trunk', 'number')),
    ADD COLUMN release_from_retell boolean NOT NULL DEFAULT true;
ALTER TABLE voice_numbers DROP CONSTRAINT voice_numbers_status_check;
ALTER TABLE voice_numbers ADD CONSTRAINT voice_numbers_status_check
    CHECK (status IN ('in_progress', 'failed', 'ready', 'releasing', 'release_failed'));

-- +goose Down
DELETE FROM voice_numbers WHERE status IN ('releasing', 'release_failed');
ALTER TABLE voice_numbers DROP CONSTRAINT voice_numbers_status_check;
ALTER TABLE voice_numbers ADD CONSTRAINT voice_numbers_status_check CHECK (status IN ('in_progress', 'failed', 'ready'));
ALTER TABLE voice_numbers DROP COLUMN release_from_retell, DROP COLUMN release_step;
