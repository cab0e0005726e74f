-- Voice AI (migration 00020). Sections: the Retell account (here); the numbers and the
-- calls append their own sections below.

-- ---- Retell account ----

-- name: voice-account
SELECT id, org_id, api_key_sealed, status, last_error, tested_at, max_concurrent, call_hours_start, call_hours_end,
    call_days, created_at, updated_at
FROM voice_accounts WHERE org_id = $1;

-- name: voice-account-by-id
-- cross-org: a Retell webhook names the account in its URL; the org comes from the row.
SELECT id, org_id, api_key_sealed, status, last_error, tested_at, max_concurrent, call_hours_start, call_hours_end,
    call_days, created_at, updated_at
FROM voice_accounts WHERE id = $1;

-- name: voice-account-ensure
-- The org's account row, created with no key the first time (its id binds the sealed key).
INSERT INTO voice_accounts (org_id, api_key_sealed) VALUES ($1, '')
ON CONFLICT (org_id) DO UPDATE SET updated_at = voice_accounts.updated_at
RETURNING id;

-- name: voice-account-set-key
-- A new key is untested again.
UPDATE voice_accounts SET api_key_sealed = $3, status = 'untested', last_error = '', tested_at = NULL,
    updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: voice-account-set-max
UPDATE voice_accounts SET max_concurrent = $2, updated_at = now() WHERE org_id = $1;

-- name: voice-account-set-hours
-- The org's calling hours: $2 start hour, $3 end hour, $4 days (a bit per weekday).
UPDATE voice_accounts SET call_hours_start = $2, call_hours_end = $3, call_days = $4, updated_at = now()
WHERE org_id = $1;

-- name: voice-account-set-status
-- What the last test said, in Retell's words.
UPDATE voice_accounts SET status = $2, last_error = $3, tested_at = now() WHERE org_id = $1;
