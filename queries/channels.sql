-- name: channel-set-status
-- The result of a channel's test: connected, or error with the provider's words.
UPDATE channels SET status = $3, last_error = $4, updated_at = now()
WHERE org_id = $1 AND id = $2 AND status <> 'disconnected';

-- name: channel-disconnect
-- A disconnected channel keeps its conversations but forgets its credentials: it sends
-- nothing more and its webhooks are refused.
UPDATE channels SET status = 'disconnected', secrets = '', last_error = '', updated_at = now()
WHERE org_id = $1 AND id = $2 AND status <> 'disconnected';
