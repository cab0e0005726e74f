package model

// Channel statuses: a QR channel is pending until its phone is linked; a test that the
// provider refuses leaves error (with last_error); disconnected channels send nothing.
const (
	ChannelPending      = "pending"
	ChannelConnected    = "connected"
	ChannelDisconnected = "disconnected"
	ChannelError        = "error"
)

// ServiceWindow says whether free text to a customer needs their message in the last 24
// hours: Meta's rule for the Cloud API. A linked phone (QR) answers like WhatsApp on a
// phone does, at any time.
func (c Channel) ServiceWindow() bool { return c.Kind == KindWhatsAppCloud }

// ConnectionKinds are the kinds a channel can be, in the order the settings page offers them.
var ConnectionKinds = []string{KindSandbox, KindWhatsAppCloud, KindWhatsAppQR, KindTwilioSMS}

// ChannelKindReady says whether a channel of kind can be created (from the settings page
// or the API).
func ChannelKindReady(kind string) bool {
	for _, k := range ConnectionKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// ChannelField is one setting a channel kind asks for when it is connected.
type ChannelField struct {
	Name     string // form field, and config or secrets key
	Type     string // input type: text, password, url, tel
	Secret   bool   // sealed in the vault, never shown again
	Required bool
	Optional bool // labelled "optional" (required-one-of pairs are neither)
}

// ChannelFields lists, per kind, what connecting a channel asks for besides its name.
var ChannelFields = map[string][]ChannelField{
	KindWhatsAppCloud: {
		{Name: "phone_number_id", Type: "text", Required: true},
		{Name: "waba_id", Type: "text", Required: true},
		{Name: "access_token", Type: "password", Secret: true, Required: true},
		{Name: "app_secret", Type: "password", Secret: true, Required: true},
		{Name: "verify_token", Type: "password", Secret: true, Required: true},
	},
	KindTwilioSMS: {
		{Name: "account_sid", Type: "text", Required: true},
		{Name: "auth_token", Type: "password", Secret: true, Required: true},
		{Name: "from", Type: "tel"},
		{Name: "messaging_service_sid", Type: "text"},
	},
}
