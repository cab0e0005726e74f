-- Contact identities: the ways channels name a person (phone, WhatsApp user id, username,
-- QR JID/LID). See migrations/00011_identities.sql.

-- name: identities-link
-- Records identities a channel gave for a known contact, and its phone when it had none
-- and no other contact holds it (a phone already owned stays with its owner: an agent
-- merges the two). An identity another contact holds stays there too. $1 org, $2 contact,
-- $3 phone ('' for none), $4 kinds, $5 values.
WITH phone AS (
    UPDATE contacts c SET phone = $3, updated_at = now()
    WHERE c.org_id = $1 AND c.id = $2 AND c.phone IS NULL AND $3 <> ''
      AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.org_id = $1 AND o.phone = $3)
    RETURNING c.id
)
INSERT INTO contact_identities (org_id, contact_id, kind, value)
SELECT $1, $2, x.kind, x.value FROM unnest($4::text[], $5::text[]) AS x(kind, value)
ON CONFLICT (org_id, kind, value) DO NOTHING;

-- name: contact-change-phone
-- A person's new number (WhatsApp's user_changed_number): the contact takes it unless
-- another contact of the org holds it. $1 org, $2 contact, $3 phone.
UPDATE contacts c SET phone = $3, updated_at = now()
WHERE c.org_id = $1 AND c.id = $2
  AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.org_id = $1 AND o.phone = $3 AND o.id <> $2);

-- name: identities-of-contact
SELECT i.contact_id, i.kind, i.value FROM contact_identities i
WHERE i.org_id = $1 AND i.contact_id = $2
ORDER BY array_position(ARRAY['phone', 'wa_user_id', 'wa_parent_user_id', 'wa_lid', 'wa_jid', 'wa_username'], i.kind), i.id;
