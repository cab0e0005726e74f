-- Starting calls from Master IA: the org's calling hours (in each contact's own time zone)
-- and who started a call.
--
-- Calling hours are wall-clock hours [start, end) on the days of call_days, a bit per
-- weekday as Go counts them (Sunday 0 … Saturday 6): 126 is Monday to Saturday.

-- +goose Up
ALTER TABLE voice_accounts
    ADD COLUMN call_hours_start smallint NOT NULL DEFAULT 9 CHECK (call_hours_start BETWEEN 0 AND 23),
    ADD COLUMN call_hours_end   smallint NOT NULL DEFAULT 20 CHECK (call_hours_end BETWEEN 1 AND 24),
    ADD COLUMN call_days        smallint NOT NULL DEFAULT 126 CHECK (call_days BETWEEN 1 AND 127),
    ADD CONSTRAINT voice_accounts_call_hours CHECK (call_hours_start < call_hours_end);

ALTER TABLE calls ADD COLUMN started_by bigint REFERENCES users ON DELETE SET NULL;

-- +goose Down
ALTER TABLE calls DROP COLUMN started_by;
ALTER TABLE voice_accounts DROP CONSTRAINT voice_accounts_call_hours,
    DROP COLUMN call_hours_start, DROP COLUMN call_hours_end, DROP COLUMN call_days;
