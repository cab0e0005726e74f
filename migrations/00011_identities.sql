-- One person across ids: a contact's identities (phone, WhatsApp's business-scoped user id,
-- its parent id, the username, the WhatsApp-by-QR JID and LID). Inbound messages find their
-- contact by any of them, and each identity belongs to at most one contact of an org.
-- The phone identity mirrors contacts.phone (a trigger keeps it so, whoever writes the phone:
-- an agent's edit, an import, an inbound message).

-- +goose Up
CREATE TABLE contact_identities (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('phone', 'wa_user_id', 'wa_parent_user_id', 'wa_username', 'wa_jid', 'wa_lid')),
    value      text NOT NULL CHECK (char_length(value) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, kind, value)
);
CREATE INDEX contact_identities_contact ON contact_identities (org_id, contact_id);

INSERT INTO contact_identities (org_id, contact_id, kind, value)
SELECT org_id, id, 'phone', phone FROM contacts WHERE phone IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION contact_phone_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.phone IS NOT DISTINCT FROM NEW.phone THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.phone IS NOT NULL THEN
        DELETE FROM contact_identities
        WHERE org_id = NEW.org_id AND contact_id = NEW.id AND kind = 'phone' AND value = OLD.phone;
    END IF;
    IF NEW.phone IS NOT NULL THEN
        -- contacts.phone is unique per org, so a phone identity left by a deleted or
        -- renumbered contact is the only thing that can be in the way: it moves here.
        INSERT INTO contact_identities (org_id, contact_id, kind, value)
        VALUES (NEW.org_id, NEW.id, 'phone', NEW.phone)
        ON CONFLICT (org_id, kind, value) DO UPDATE SET contact_id = excluded.contact_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER contacts_phone_identity AFTER INSERT OR UPDATE OF phone ON contacts
    FOR EACH ROW EXECUTE FUNCTION contact_phone_identity();

-- +goose Down
DROP TRIGGER contacts_phone_identity ON contacts;
DROP FUNCTION contact_phone_identity();
DROP TABLE contact_identities;
