-- The AI provider of an org and what its models cost.
--
-- One OpenAI-compatible endpoint per org (OpenAI, a gateway, Ollama, vLLM, OpenRouter): its
-- base URL (ending in /v1, as langchaingo expects), its key sealed by app/vault (bound to the
-- org, so a sealed key copied to another org's row does not open), the chat and embedding
-- models, and a monthly budget in US dollars (0: none). status and last_error are what the
-- last Test or call said. ai_usage has one row per call that spent tokens; its cost is an
-- estimate from the price table in app/ai/provider.

-- +goose Up
CREATE TABLE ai_providers (
    org_id               bigint PRIMARY KEY REFERENCES orgs ON DELETE CASCADE,
    base_url             text NOT NULL CHECK (base_url ~ '^https?://'),
    api_key_sealed       text NOT NULL,
    chat_model           text NOT NULL CHECK (char_length(chat_model) BETWEEN 1 AND 200),
    embedding_model      text NOT NULL CHECK (char_length(embedding_model) BETWEEN 1 AND 200),
    embedding_dimensions int NOT NULL DEFAULT 0 CHECK (embedding_dimensions BETWEEN 0 AND 8192),
    monthly_budget       numeric(12, 2) NOT NULL DEFAULT 0 CHECK (monthly_budget >= 0),
    status               text NOT NULL DEFAULT 'untested' CHECK (status IN ('untested', 'ok', 'error')),
    last_error           text NOT NULL DEFAULT '',
    tested_at            timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_usage (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    at                timestamptz NOT NULL DEFAULT now(),
    kind              text NOT NULL CHECK (kind IN ('chat', 'embedding')),
    model             text NOT NULL,
    prompt_tokens     int NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens int NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cost              numeric(14, 8) NOT NULL DEFAULT 0 CHECK (cost >= 0)
);
-- The month's spend of an org: a range scan of (org_id, at).
CREATE INDEX ai_usage_org_at ON ai_usage (org_id, at) INCLUDE (cost);

-- +goose Down
DROP TABLE ai_usage;
DROP TABLE ai_providers;
