package metasim

// The webhook payload types below follow Meta's "messages webhook reference" and its "Webhook
// notification payload examples": every webhook is one Envelope with one entry and one change
// whose field is "messages"; value holds either messages (with contacts) or statuses.

// Envelope is the body of a webhook POST:
// {"object":"whatsapp_business_account","entry":[{"id":waba_id,"changes":[{"value":…,"field":"messages"}]}]}.
type Envelope struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one WhatsApp Business Account's changes.
type Entry struct {
	ID      string   `json:"id"` // WABA id
	Changes []Change `json:"changes"`
}

// Change is one change of the "messages" field.
type Change struct {
	Value Value  `json:"value"`
	Field string `json:"field"`
}

// Value is the content of a change.
type Value struct {
	MessagingProduct string    `json:"messaging_product"`
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts,omitempty"`
	Messages         []Message `json:"messages,omitempty"`
	Statuses         []Status  `json:"statuses,omitempty"`
	Errors           []Error   `json:"errors,omitempty"`
}

// Metadata names the business number the change is about.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"` // digits only, e.g. "15550783881"
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is the WhatsApp user who sent the messages of a change.
type Contact struct {
	Profile      Profile `json:"profile"`
	WaID         string  `json:"wa_id,omitempty"` // withheld for username users without recent contact
	UserID       string  `json:"user_id"`         // business-scoped user id, always present
	ParentUserID string  `json:"parent_user_id,omitempty"`
}

// Profile is a WhatsApp user's public profile.
type Profile struct {
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
}

// Message is one inbound message, value.messages[]. Type names the one content field that is set.
type Message struct {
	Context          *MessageContext `json:"context,omitempty"`
	From             string          `json:"from,omitempty"` // withheld with the contact's wa_id
	FromUserID       string          `json:"from_user_id,omitempty"`
	FromParentUserID string          `json:"from_parent_user_id,omitempty"`
	System           *System         `json:"system,omitempty"`
	ID               string          `json:"id"`
	Timestamp        string          `json:"timestamp"` // Unix seconds, as a string
	Type             string          `json:"type"`
	Text             *Text           `json:"text,omitempty"`
	Image            *Media          `json:"image,omitempty"`
	Audio            *Media          `json:"audio,omitempty"`
	Video            *Media          `json:"video,omitempty"`
	Document         *Media          `json:"document,omitempty"`
	Sticker          *Media          `json:"sticker,omitempty"`
	Location         *Location       `json:"location,omitempty"`
	Contacts         []SharedContact `json:"contacts,omitempty"`
	Interactive      *Interactive    `json:"interactive,omitempty"`
	Button           *Button         `json:"button,omitempty"`
	Reaction         *Reaction       `json:"reaction,omitempty"`
	Errors           []Error         `json:"errors,omitempty"`
	Unsupported      *Unsupported    `json:"unsupported,omitempty"`
}

// System is the content of a "system" message: the user changed number (Type
// user_changed_number, WaID the new number) or got a new user id (user_changed_user_id).
type System struct {
	Body         string `json:"body"`
	Type         string `json:"type"`
	WaID         string `json:"wa_id,omitempty"`
	UserID       string `json:"user_id,omitempty"`
	ParentUserID string `json:"parent_user_id,omitempty"`
}

// MessageContext points at the business message a user answered (buttons, lists, replies).
type MessageContext struct {
	From string `json:"from"`
	ID   string `json:"id"`
}

// Text is the content of a text message.
type Text struct {
	Body string `json:"body"`
}

// Media is the content of an image, audio, video, document or sticker message. ID resolves
// through GET /{media_id}.
type Media struct {
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"` // documents
	MIMEType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	ID       string `json:"id"`
	Voice    bool   `json:"voice,omitempty"`    // audio recorded in the app
	Animated *bool  `json:"animated,omitempty"` // stickers always carry it
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// SharedContact is one contact card of a contacts message.
type SharedContact struct {
	Addresses []ContactAddress `json:"addresses,omitempty"`
	Birthday  string           `json:"birthday,omitempty"` // YYYY-MM-DD
	Emails    []ContactEmail   `json:"emails,omitempty"`
	Name      ContactName      `json:"name"`
	Org       *ContactOrg      `json:"org,omitempty"`
	Phones    []ContactPhone   `json:"phones,omitempty"`
	URLs      []ContactURL     `json:"urls,omitempty"`
}

// ContactAddress is a postal address of a contact card.
type ContactAddress struct {
	City        string `json:"city,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	State       string `json:"state,omitempty"`
	Street      string `json:"street,omitempty"`
	Type        string `json:"type,omitempty"` // HOME or WORK
	Zip         string `json:"zip,omitempty"`
}

// ContactEmail is an email of a contact card.
type ContactEmail struct {
	Email string `json:"email"`
	Type  string `json:"type,omitempty"`
}

// ContactName is the name of a contact card; FormattedName is always present.
type ContactName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	MiddleName    string `json:"middle_name,omitempty"`
	Suffix        string `json:"suffix,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
}

// ContactOrg is the organisation of a contact card.
type ContactOrg struct {
	Company    string `json:"company,omitempty"`
	Department string `json:"department,omitempty"`
	Title      string `json:"title,omitempty"`
}

// ContactPhone is a phone of a contact card; WaID is set when the number is on WhatsApp.
type ContactPhone struct {
	Phone string `json:"phone"`
	WaID  string `json:"wa_id,omitempty"`
	Type  string `json:"type,omitempty"`
}

// ContactURL is a web address of a contact card.
type ContactURL struct {
	URL  string `json:"url"`
	Type string `json:"type,omitempty"`
}

// Interactive is the answer to an interactive message: Type is button_reply or list_reply.
type Interactive struct {
	Type        string `json:"type"`
	ButtonReply *Reply `json:"button_reply,omitempty"`
	ListReply   *Reply `json:"list_reply,omitempty"`
}

// Reply is the button or list row a user picked.
type Reply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"` // list rows only
}

// Button is a tap on a template's quick reply button.
type Button struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

// Reaction is an emoji reaction to a message; an empty Emoji removes it.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// Unsupported names the kind of message Cloud API could not pass on.
type Unsupported struct {
	Type string `json:"type"`
}

// Error is a Cloud API error as webhooks carry it (messages[].errors, statuses[].errors).
type Error struct {
	Code      int        `json:"code"`
	Title     string     `json:"title"`
	Message   string     `json:"message,omitempty"`
	ErrorData *ErrorData `json:"error_data,omitempty"`
	Href      string     `json:"href,omitempty"`
}

// ErrorData explains an Error.
type ErrorData struct {
	Details string `json:"details"`
}

// Status is one entry of value.statuses[], per the status messages webhook reference.
type Status struct {
	ID                    string        `json:"id"` // the wamid the send returned
	Status                string        `json:"status"`
	Timestamp             string        `json:"timestamp"`
	RecipientID           string        `json:"recipient_id,omitempty"`      // when sent to a phone
	RecipientUserID       string        `json:"recipient_user_id,omitempty"` // when sent to a user id
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`
	Conversation          *Conversation `json:"conversation,omitempty"`
	Pricing               *Pricing      `json:"pricing,omitempty"`
	Errors                []Error       `json:"errors,omitempty"`
}

// Conversation is the billing conversation a status belongs to.
type Conversation struct {
	ID                  string             `json:"id"`
	ExpirationTimestamp string             `json:"expiration_timestamp,omitempty"`
	Origin              ConversationOrigin `json:"origin"`
}

// ConversationOrigin tells what opened the conversation: service, marketing, utility, authentication.
type ConversationOrigin struct {
	Type string `json:"type"`
}

// Pricing is how a message is billed.
type Pricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Type         string `json:"type,omitempty"`
	Category     string `json:"category"`
}
