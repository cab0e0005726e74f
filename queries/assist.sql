-- The agent assist of the inbox composer (app/ai/assist).

-- name: assist-persona-kbs
-- The knowledge bases of the persona a conversation runs: its own persona, else its
-- channel's. None when it runs no persona or the persona reads no knowledge base.
SELECT pk.knowledge_base_id
FROM conversations v
JOIN channels ch ON ch.org_id = v.org_id AND ch.id = v.channel_id
JOIN persona_knowledge_bases pk ON pk.org_id = v.org_id AND pk.persona_id = coalesce(v.persona_id, ch.persona_id)
WHERE v.org_id = $1 AND v.id = $2
ORDER BY pk.knowledge_base_id;
