-- Voice numbers: the set-up of a number step by step (Settings → Voice → Numbers).
-- See migrations/00020_voice.sql, 00022_voice_number_twilio.sql and 00025_voice_number_release.sql.

-- name: voice-numbers
SELECT id, org_id, phone_number, source, country, step, status, last_error, twilio_number_sid, trunk_sid,
    termination_uri, origination_url_sid, credential_list_sid, sip_username, sip_password_sealed,
    inbound_agent_id, outbound_agent_id, nickname, twilio_channel_id, release_step, release_from_retell,
    created_at, updated_at
FROM voice_numbers WHERE org_id = $1 ORDER BY created_at DESC, id DESC;

-- name: voice-numbers-page
-- A page of an org's voice numbers, newest first, before id $2 (0: from the newest).
SELECT id, org_id, phone_number, source, country, step, status, last_error, twilio_number_sid, trunk_sid,
    termination_uri, origination_url_sid, credential_list_sid, sip_username, sip_password_sealed,
    inbound_agent_id, outbound_agent_id, nickname, twilio_channel_id, release_step, release_from_retell,
    created_at, updated_at
FROM voice_numbers WHERE org_id = $1 AND ($2 = 0 OR id < $2)
ORDER BY id DESC LIMIT $3;

-- name: voice-number
SELECT id, org_id, phone_number, source, country, step, status, last_error, twilio_number_sid, trunk_sid,
    termination_uri, origination_url_sid, credential_list_sid, sip_username, sip_password_sealed,
    inbound_agent_id, outbound_agent_id, nickname, twilio_channel_id, release_step, release_from_retell,
    created_at, updated_at
FROM voice_numbers WHERE org_id = $1 AND id = $2;

-- name: voice-number-create
-- A number whose set-up starts (source twilio, step bought, in progress) or a linked one
-- (source linked, ready). $1 org, $2 number, $3 source, $4 country, $5 step, $6 status,
-- $7 inbound agent, $8 outbound agent, $9 nickname, $10 Twilio channel.
INSERT INTO voice_numbers (org_id, phone_number, source, country, step, status, inbound_agent_id,
    outbound_agent_id, nickname, twilio_channel_id)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, c.id
FROM (SELECT 1) one LEFT JOIN channels c ON c.org_id = $1 AND c.id = $10 AND c.kind = 'twilio_sms'
RETURNING id, org_id, phone_number, source, country, step, status, last_error, twilio_number_sid, trunk_sid,
    termination_uri, origination_url_sid, credential_list_sid, sip_username, sip_password_sealed,
    inbound_agent_id, outbound_agent_id, nickname, twilio_channel_id, release_step, release_from_retell,
    created_at, updated_at;

-- name: voice-number-claim
-- Takes a failed set-up to run it again; one taker only, so two clicks buy nothing twice.
-- A run left in progress for 10 minutes (its process died) may be taken too.
UPDATE voice_numbers SET status = 'in_progress', last_error = '', updated_at = now()
WHERE org_id = $1 AND id = $2 AND source = 'twilio'
  AND (status = 'failed' OR (status = 'in_progress' AND updated_at < now() - interval '10 minutes'))
RETURNING id;

-- name: voice-number-progress
-- Records a step done: the sids and settings learned so far, and the step to run next.
UPDATE voice_numbers SET step = $3, status = $4, twilio_number_sid = $5, trunk_sid = $6, termination_uri = $7,
    origination_url_sid = $8, credential_list_sid = $9, sip_username = $10, sip_password_sealed = $11,
    last_error = '', updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: voice-number-fail
UPDATE voice_numbers SET status = 'failed', last_error = $3, updated_at = now() WHERE org_id = $1 AND id = $2;

-- name: voice-number-set-agents
UPDATE voice_numbers SET inbound_agent_id = $3, outbound_agent_id = $4, updated_at = now()
WHERE org_id = $1 AND id = $2;

-- name: voice-number-release-claim
-- Takes a number to release, or a failed release to go on with; one taker only. A set-up
-- or a release left running for 10 minutes (its process died) may be taken too; a set-up
-- running now may not. $3: whether it leaves Retell (kept from the first try when it goes
-- on). The release starts at its first step, or goes on from the one it stopped at.
UPDATE voice_numbers SET status = 'releasing', last_error = '', updated_at = now(),
    release_from_retell = CASE WHEN release_step = '' THEN $3 ELSE release_from_retell END,
    release_step = CASE WHEN release_step = '' THEN 'retell' ELSE release_step END
WHERE org_id = $1 AND id = $2
  AND (status IN ('ready', 'failed', 'release_failed')
       OR (status IN ('in_progress', 'releasing') AND updated_at < now() - interval '10 minutes'))
RETURNING id;

-- name: voice-number-release-progress
-- Records a release step done ($3 the next one), with the sids it found ($4 trunk, $5 number).
UPDATE voice_numbers SET release_step = $3, trunk_sid = $4, twilio_number_sid = $5, last_error = '', updated_at = now()
WHERE org_id = $1 AND id = $2 AND status = 'releasing';

-- name: voice-number-release-fail
UPDATE voice_numbers SET status = 'release_failed', last_error = $3, updated_at = now()
WHERE org_id = $1 AND id = $2 AND status = 'releasing';

-- name: voice-number-delete
-- The release is done: the row goes (calls keep their numbers, number_id becomes NULL).
DELETE FROM voice_numbers WHERE org_id = $1 AND id = $2 AND status = 'releasing';
