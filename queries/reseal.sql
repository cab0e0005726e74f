-- `masteria keys rotate` re-seals every sealed value with the key ring's primary key. Each
-- table gives its rows' sealed values, and takes a re-sealed one only if the value is still
-- the one read (a row changed meanwhile keeps its newer value).

-- name: reseal-channels
-- cross-org: key rotation re-seals every org's channel secrets.
SELECT id, org_id, secrets AS sealed FROM channels WHERE secrets <> '';

-- name: reseal-channel
UPDATE channels SET secrets = $4 WHERE org_id = $1 AND id = $2 AND secrets = $3;

-- name: reseal-ai-providers
-- cross-org: key rotation re-seals every org's AI provider key.
SELECT org_id AS id, org_id, api_key_sealed AS sealed FROM ai_providers WHERE api_key_sealed <> '';

-- name: reseal-ai-provider
-- An AI provider's row is its org's ($2, its id, is the org's too).
UPDATE ai_providers SET api_key_sealed = $4 WHERE org_id = $1 AND org_id = $2 AND api_key_sealed = $3;

-- name: reseal-voice-accounts
-- cross-org: key rotation re-seals every org's Retell key.
SELECT id, org_id, api_key_sealed AS sealed FROM voice_accounts WHERE api_key_sealed <> '';

-- name: reseal-voice-account
UPDATE voice_accounts SET api_key_sealed = $4 WHERE org_id = $1 AND id = $2 AND api_key_sealed = $3;

-- name: reseal-voice-numbers
-- cross-org: key rotation re-seals every org's SIP passwords.
SELECT id, org_id, sip_password_sealed AS sealed FROM voice_numbers WHERE sip_password_sealed <> '';

-- name: reseal-voice-number
UPDATE voice_numbers SET sip_password_sealed = $4 WHERE org_id = $1 AND id = $2 AND sip_password_sealed = $3;
