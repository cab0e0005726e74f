-- name: template-upsert
INSERT INTO message_templates (org_id, channel_id, provider_id, name, language, category, status, components, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (channel_id, name, language) DO UPDATE SET provider_id = excluded.provider_id,
    category = excluded.category, status = excluded.status, components = excluded.components, synced_at = excluded.synced_at
WHERE message_templates.org_id = excluded.org_id;

-- name: templates-delete-gone
-- Templates the account no longer has: not seen by the sync that ran at $3.
DELETE FROM message_templates WHERE org_id = $1 AND channel_id = $2 AND synced_at < $3;

-- name: templates
SELECT id, org_id, channel_id, provider_id, name, language, category, status, components, synced_at
FROM message_templates WHERE org_id = $1 AND channel_id = $2 ORDER BY lower(name), language;

-- name: template-by-id
SELECT id, org_id, channel_id, provider_id, name, language, category, status, components, synced_at
FROM message_templates WHERE org_id = $1 AND channel_id = $2 AND id = $3;

-- name: template-by-name
SELECT id, org_id, channel_id, provider_id, name, language, category, status, components, synced_at
FROM message_templates WHERE org_id = $1 AND channel_id = $2 AND name = $3 AND language = $4;

-- name: template-sync-set
INSERT INTO template_syncs (channel_id, org_id, synced_at, error) VALUES ($2, $1, $3, $4)
ON CONFLICT (channel_id) DO UPDATE SET synced_at = coalesce(excluded.synced_at, template_syncs.synced_at), error = excluded.error
WHERE template_syncs.org_id = excluded.org_id;

-- name: template-sync
SELECT synced_at, error FROM template_syncs WHERE org_id = $1 AND channel_id = $2;

-- name: cloud-channels
-- cross-org: the periodic template sync covers every org's connected WhatsApp Cloud numbers.
SELECT org_id, id FROM channels WHERE kind = 'whatsapp_cloud' AND status <> 'disconnected' ORDER BY id;

-- name: template-set-status
-- A template status webhook: the template's new status (PAUSED, DISABLED, APPROVED…), for
-- every language when the webhook gives none.
UPDATE message_templates SET status = $5
WHERE org_id = $1 AND channel_id = $2 AND name = $3 AND ($4 = '' OR language = $4);
