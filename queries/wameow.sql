-- name: wameow-sessions
-- cross-org: each instance's session manager looks for the WhatsApp QR sessions nobody
-- holds, whatever their org; the advisory lock decides who runs each one.
SELECT id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at
FROM channels WHERE kind = 'whatsapp_qr' AND status IN ('pending', 'connected') ORDER BY id;

-- name: wameow-set-state
-- A QR channel's status as its session sees it: the keys $6 leave the config, then $5 is
-- merged into it (jid, phone).
UPDATE channels SET status = $3, last_error = $4, config = (CASE jsonb_typeof(config) WHEN 'object' THEN config ELSE '{}' END - $6::text[]) || $5::jsonb, updated_at = now()
WHERE org_id = $1 AND id = $2 AND kind = 'whatsapp_qr'
RETURNING id, org_id, kind, name, config, secrets, status, last_error, rate, created_at, updated_at;

-- name: wameow-qr-put
INSERT INTO whatsapp_qr_codes (org_id, channel_id, code, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (channel_id) DO UPDATE SET code = excluded.code, expires_at = excluded.expires_at, updated_at = now();

-- name: wameow-qr-delete
DELETE FROM whatsapp_qr_codes WHERE org_id = $1 AND channel_id = $2;

-- name: wameow-qr
SELECT code, expires_at FROM whatsapp_qr_codes WHERE org_id = $1 AND channel_id = $2;
