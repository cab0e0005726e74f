-- Merging two contacts of an org into one (crm.Merge): every statement runs in one
-- transaction, $1 org, $2 the contact kept, $3 the other one, which is deleted last.

-- name: merge-lock
-- Both contacts, locked so that nothing is added to the other one meanwhile.
SELECT c.id FROM contacts c WHERE c.org_id = $1 AND c.id IN ($2, $3) ORDER BY c.id FOR UPDATE;

-- name: merge-preview
-- What moves from the other contact ($2) to the kept one ($3); no row when either is not
-- the org's.
SELECT (SELECT count(*) FROM conversations v WHERE v.org_id = $1 AND v.contact_id = $2) AS conversations,
       (SELECT count(*) FROM leads l WHERE l.org_id = $1 AND l.contact_id = $2) AS leads,
       (SELECT count(*) FROM contact_identities i WHERE i.org_id = $1 AND i.contact_id = $2) AS identities,
       (SELECT count(*) FROM contact_events e WHERE e.org_id = $1 AND e.contact_id = $2) AS events,
       cardinality(c.tag_ids) AS tags
FROM contacts c
WHERE c.org_id = $1 AND c.id = $2 AND EXISTS (SELECT 1 FROM contacts k WHERE k.org_id = $1 AND k.id = $3);

-- name: merge-messages
-- Where both have a conversation on the same channel, the other's messages join the kept one.
UPDATE messages m SET conversation_id = k.id
FROM conversations o JOIN conversations k ON k.channel_id = o.channel_id
WHERE m.org_id = $1 AND o.org_id = $1 AND k.org_id = $1
  AND o.contact_id = $3 AND k.contact_id = $2 AND m.conversation_id = o.id;

-- name: merge-fold-conversations
-- … and the kept conversation takes the other's unread count, latest message, labels,
-- openness and searchable words; the emptied conversation goes.
WITH pairs AS (
    SELECT k.id AS kid, o.id AS oid, o.unread, o.last_message_at, o.last_inbound_at, o.preview, o.labels, o.status,
           o.assignee_id, o.search
    FROM conversations o JOIN conversations k ON k.channel_id = o.channel_id
    WHERE o.org_id = $1 AND k.org_id = $1 AND o.contact_id = $3 AND k.contact_id = $2
), folded AS (
    UPDATE conversations k SET
        unread = k.unread + p.unread,
        preview = CASE WHEN p.last_message_at > k.last_message_at THEN p.preview ELSE k.preview END,
        last_message_at = greatest(k.last_message_at, p.last_message_at),
        last_inbound_at = greatest(k.last_inbound_at, p.last_inbound_at),
        labels = ARRAY(SELECT DISTINCT unnest(k.labels || p.labels) ORDER BY 1),
        status = CASE WHEN k.status = 'closed' THEN p.status ELSE k.status END,
        assignee_id = coalesce(k.assignee_id, p.assignee_id),
        -- the words the inbox search knows the conversation by (see 00012_search.sql)
        search = CASE WHEN length(k.search) < 20000 THEN k.search || p.search ELSE k.search END
    FROM pairs p WHERE k.org_id = $1 AND k.id = p.kid
)
DELETE FROM conversations o USING pairs p WHERE o.org_id = $1 AND o.id = p.oid;

-- name: merge-conversations
UPDATE conversations v SET contact_id = $2 WHERE v.org_id = $1 AND v.contact_id = $3;

-- name: merge-leads
UPDATE leads l SET contact_id = $2, updated_at = now() WHERE l.org_id = $1 AND l.contact_id = $3;

-- name: merge-events
UPDATE contact_events e SET contact_id = $2 WHERE e.org_id = $1 AND e.contact_id = $3;

-- name: merge-identities
-- Every identity moves, the other's phone too: a message from that number then finds the
-- kept contact (inbound-receive looks phones up among the identities) even when the kept
-- contact has a phone of its own.
UPDATE contact_identities i SET contact_id = $2 WHERE i.org_id = $1 AND i.contact_id = $3;

-- name: merge-delete-other
-- The other contact goes, giving back what the kept one fills its gaps with.
DELETE FROM contacts c WHERE c.org_id = $1 AND c.id = $3 AND c.id <> $2
RETURNING c.name, c.phone, c.email, c.owner_id, c.tag_ids, c.opted_out, c.attributes, c.last_activity_at;

-- name: merge-fill-kept
-- The kept contact keeps what it has and takes the rest: an empty name, phone, email or
-- owner and missing custom fields are filled; tags and opt-outs are the union (an opt-out
-- given on either stays). $4 name, $5 phone, $6 email, $7 owner, $8 tags, $9 opt-outs,
-- $10 custom fields, $11 last activity.
UPDATE contacts c SET
    name = CASE WHEN c.name = '' THEN $4 ELSE c.name END,
    phone = coalesce(c.phone, $5),
    email = coalesce(c.email, $6),
    owner_id = coalesce(c.owner_id, $7),
    tag_ids = ARRAY(SELECT DISTINCT unnest(c.tag_ids || $8::bigint[]) ORDER BY 1),
    opted_out = ARRAY(SELECT DISTINCT unnest(c.opted_out || $9::text[]) ORDER BY 1),
    attributes = $10::jsonb || c.attributes,
    last_activity_at = greatest(c.last_activity_at, $11),
    updated_at = now()
WHERE c.org_id = $1 AND c.id = $2 AND c.id <> $3;
