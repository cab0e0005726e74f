-- The AI provider of an org and its usage (migration 00016).

-- name: ai-provider
SELECT org_id, base_url, api_key_sealed, chat_model, embedding_model, embedding_dimensions,
    monthly_budget::float8 AS monthly_budget, status, last_error, tested_at, updated_at
FROM ai_providers WHERE org_id = $1;

-- name: ai-provider-put
-- Saves the settings; a new endpoint or key is untested again.
INSERT INTO ai_providers (org_id, base_url, api_key_sealed, chat_model, embedding_model,
    embedding_dimensions, monthly_budget)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (org_id) DO UPDATE SET base_url = excluded.base_url,
    api_key_sealed = excluded.api_key_sealed, chat_model = excluded.chat_model,
    embedding_model = excluded.embedding_model, embedding_dimensions = excluded.embedding_dimensions,
    monthly_budget = excluded.monthly_budget,
    status = CASE WHEN ai_providers.base_url = excluded.base_url
        AND ai_providers.api_key_sealed = excluded.api_key_sealed THEN ai_providers.status ELSE 'untested' END,
    last_error = CASE WHEN ai_providers.base_url = excluded.base_url
        AND ai_providers.api_key_sealed = excluded.api_key_sealed THEN ai_providers.last_error ELSE '' END,
    updated_at = now();

-- name: ai-provider-set-status
UPDATE ai_providers SET status = $2, last_error = $3, tested_at = now() WHERE org_id = $1;

-- name: ai-usage-add
INSERT INTO ai_usage (org_id, kind, model, prompt_tokens, completion_tokens, cost)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: ai-usage-since
-- What an org spent since $2 (the start of the month).
SELECT coalesce(sum(cost), 0)::float8 FROM ai_usage WHERE org_id = $1 AND at >= $2;
