package model

// Kinds of a contact's identities: the ways a channel names a person. Each identity belongs
// to at most one contact of an org.
const (
	IdentityPhone          = "phone"             // E.164, mirrors Contact.Phone
	IdentityWAUserID       = "wa_user_id"        // WhatsApp's business-scoped user id (BSUID), e.g. BR.1349…
	IdentityWAParentUserID = "wa_parent_user_id" // shared by linked business portfolios, e.g. BR.ENT.1181…
	IdentityWAUsername     = "wa_username"       // a WhatsApp username; the person may change it
	IdentityWAJID          = "wa_jid"            // WhatsApp by QR: the phone JID
	IdentityWALID          = "wa_lid"            // WhatsApp by QR: the hidden-number LID
)

// Identity is one way a channel names a contact.
type Identity struct {
	ContactID int64  `db:"contact_id" json:"-"`
	Kind      string `db:"kind" json:"kind"`
	Value     string `db:"value" json:"value"`
}

// HasPhone tells whether the contact has a phone number: SMS and calls need one, while
// WhatsApp can also reach a person by their user id.
func (c Contact) HasPhone() bool { return c.Phone != nil && *c.Phone != "" }

// RecipientKinds are the identities, most trusted first, by which the channel messages a
// contact known by no phone: WhatsApp's user id (Cloud API) or LID (QR); none for SMS.
func (c Channel) RecipientKinds() []string {
	switch c.Kind {
	case KindWhatsAppCloud:
		return []string{IdentityWAUserID, IdentityWAParentUserID}
	case KindWhatsAppQR:
		return []string{IdentityWALID, IdentityWAJID}
	case KindSandbox: // the demo reaches anyone it can name
		return []string{IdentityWAUserID, IdentityWAParentUserID, IdentityWALID, IdentityWAJID}
	}
	return nil
}

// ReachesWithoutPhone says whether the channel can message a contact known by no phone.
func (c Channel) ReachesWithoutPhone() bool { return len(c.RecipientKinds()) > 0 }
