// Package contacts renders the contact book: the filtered list with bulk actions and
// saved segments, a contact's page with its timeline, the contact form, the CSV import
// (upload, column mapping, progress and report) and the org's tags and custom fields.
package contacts

import (
	"time"

	"masteria/app/model"
	"masteria/views/voice"
)

// ListData is GET /o/{org}/contacts[?filter][&segment={id}][&sort=][&after={cursor}].
type ListData struct {
	// Filter is the filter in effect: read from the URL, or the open segment's.
	Filter model.ContactFilter
	// FilterErrors are the field errors of model.ParseContactFilter (field → i18n key);
	// the page says some filters were ignored.
	FilterErrors map[string]string
	Sort         model.ContactSort // from model.ParseContactSort(?sort=)
	SegmentID    int64             // the open segment (?segment=), 0 when none

	Rows  []Row
	Total int64  // contacts matching Filter (not just this page)
	After string // this page's cursor (?after=), "" on the first page
	Next  string // the next page's cursor, "" on the last page

	// HasContacts tells whether the org has any contact at all: with no match it picks
	// between "no contacts yet" and "nothing matches".
	HasContacts bool

	Tags     []model.Tag          // the org's tags: chips, the tag filter and bulk tagging
	Stages   []StageOption        // every stage of every pipeline, for the stage filter
	Fields   []model.ContactField // the org's custom fields, for the field condition
	Members  []model.Membership   // the org's members: owner filter and bulk assign
	Segments []SegmentItem        // saved segments with their live counts

	// The "save as segment" form after a failed POST /contacts/segments.
	SegmentName  string
	SegmentError string // i18n key under the name
}

// StageOption is a board stage offered by the stage filter: "Vendas · Proposta".
type StageOption struct {
	ID    int64
	Label string
}

// Row is one contact of the list.
type Row struct {
	model.Contact
	PhoneDisplay string // the phone written for people: "(11) 98765-4321", "+1 415-555-0100"
}

// SegmentItem is a saved segment and how many contacts it holds now.
type SegmentItem struct {
	model.Segment
	Count int64
}

// ShowData is GET /o/{org}/contacts/{id}[?before={event id}].
type ShowData struct {
	Contact      model.Contact
	PhoneDisplay string
	Tags         []model.Tag          // the org's tags (the contact's are picked by id)
	Fields       []model.ContactField // the org's custom fields, in order
	Events       []model.ContactEvent // newest first; their Data holds an EventData
	Identities   []model.Identity     // how WhatsApp knows the person besides the phone
	Before       string               // the ?before= of this page (model.TimelineCursor), "" on the newest
	Older        string               // when not "", older lines exist: the link asks ?before=Older
	// The person's home: the conversations the member may see and the leads, with their stage.
	Conversations []model.Conversation
	Channels      map[int64]model.Channel // the org's channels by id
	Leads         []model.ContactLead
	LeadStages    []model.StageOption // where a lead made from the page may go
	CallFrom      []voice.CallNumber  // the numbers the contact can be called from (none: no Call button)
}

// EventData is what the timeline reads from ContactEvent.Data. Each kind fills its fields:
//
//	created         source (form, import, api, inbound)
//	updated         fields: what changed: name, phone, email, attributes (or attr.<key>)
//	tagged/untagged tag_id, tag_name
//	owner_changed   owner_id (null: unassigned), owner_name
//	opted_out/in    channel: whatsapp, sms, voice
//	imported        import_id, file_name (import_updated too)
//	stage_changed   lead_id, from_name, to_name (written by the board)
//	lead_created    lead_id, title, to_name (the stage)
//	conversation    conversation_id, channel_name, channel_kind, status, messages (the last ones)
//	note            conversation_id, body (an internal note of a conversation)
//	merged          other_name, other_phone: the contact merged into this one
//
// Other kinds are shown with a generic line.
type EventData struct {
	Source    string   `json:"source,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	TagID     int64    `json:"tag_id,omitempty"`
	TagName   string   `json:"tag_name,omitempty"`
	OwnerID   *int64   `json:"owner_id,omitempty"`
	OwnerName string   `json:"owner_name,omitempty"`
	Channel   string   `json:"channel,omitempty"`
	ImportID  int64    `json:"import_id,omitempty"`
	FileName  string   `json:"file_name,omitempty"`
	FromName  string   `json:"from_name,omitempty"`
	ToName    string   `json:"to_name,omitempty"`

	ConversationID int64             `json:"conversation_id,omitempty"`
	ChannelName    string            `json:"channel_name,omitempty"`
	ChannelKind    string            `json:"channel_kind,omitempty"`
	Status         string            `json:"status,omitempty"`
	Messages       []TimelineMessage `json:"messages,omitempty"`
	Body           string            `json:"body,omitempty"`
	LeadID         int64             `json:"lead_id,omitempty"`
	Title          string            `json:"title,omitempty"`
	OtherName      string            `json:"other_name,omitempty"`
	OtherPhone     string            `json:"other_phone,omitempty"`
	// A campaign send: Status is the recipient's, with the provider's code and words
	// when it failed.
	CampaignID   int64  `json:"campaign_id,omitempty"`
	CampaignName string `json:"campaign_name,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorTitle   string `json:"error_title,omitempty"`
}

// TimelineMessage is one of a conversation's last messages on the timeline.
type TimelineMessage struct {
	Direction string    `json:"direction"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body"`
	At        time.Time `json:"at"`
}

// FormData is GET /o/{org}/contacts/new, GET /o/{org}/contacts/{id}/edit and the 422
// answers of POST /o/{org}/contacts and POST /o/{org}/contacts/{id}.
type FormData struct {
	ID     int64 // 0 for a new contact
	Values FormValues
	// Errors maps a field to an i18n key: name, phone, email, owner, tags, opted_out,
	// attr.<key>; "" (or "form") shows a banner over the form.
	Errors  map[string]string
	Members []model.Membership
	Tags    []model.Tag
	Fields  []model.ContactField
}

// FormValues are the form's fields as typed, so a failed save shows them again.
// The form posts them under these names: name, phone, email, owner (a user id or ""),
// tags (repeated tag ids), opted_out (repeated channel kinds), attr.<key> (one per field).
type FormValues struct {
	Name     string
	Phone    string // as typed, or the stored phone written for people
	Email    string
	OwnerID  int64 // 0: nobody
	TagIDs   []int64
	OptedOut []string
	Attrs    map[string]string // custom field key → value as typed (dates as 2006-01-02)
}

// UploadData is GET /o/{org}/contacts/import and the 422 answer of its POST.
type UploadData struct {
	Error   string                // i18n key under the file field
	Imports []model.ContactImport // the latest imports, newest first
	MaxMB   int                   // the upload limit, for the hint (20 when 0)
}

// MappingData is GET /o/{org}/contacts/imports/{id} while the import is pending, and the
// 422 answer of its POST.
type MappingData struct {
	Import    model.ContactImport
	Delimiter string // as detected: ",", ";", "\t" or "|"
	Encoding  string // as detected: utf-8, utf-16le, utf-16be, windows-1252
	Columns   []MappingColumn
	Fields    []model.ContactField // the org's custom fields, offered as targets "custom:<key>"
	// OnExisting is model.ImportSkip, ImportFill or ImportOverwrite; fill when "".
	OnExisting string
	Error      string // i18n key of a banner, e.g. contacts.import.error.no_phone_or_name
}

// MappingColumn is one column of the uploaded file.
type MappingColumn struct {
	Header  string
	Target  string   // the guess or the choice: one of the Target constants, or "custom:<key>"; "" = ignore
	Samples []string // up to 3 values from the first rows
}

// Targets a CSV column can be imported into; custom fields are "custom:<key>".
const (
	TargetIgnore    = "ignore"
	TargetName      = "name"
	TargetFirstName = "first_name"
	TargetLastName  = "last_name"
	TargetPhone     = "phone"
	TargetEmail     = "email"
	TargetTags      = "tags"
	TargetOwner     = "owner"   // the owner's email
	TargetOptedOut  = "opt_out" // yes/no: opted out of every channel
)

// ProgressData is GET /o/{org}/contacts/imports/{id} once the import is queued, running,
// done or failed.
type ProgressData struct {
	// Import.Error of a failed import is an i18n key (contacts.import.error.empty, not_csv,
	// unreadable, too_large) or any other text, shown as a detail under a general message.
	Import  model.ContactImport
	Rejects []model.ImportReject // the first rejected rows (up to 100) once done
	Fields  []model.ContactField // to name the custom fields in reasons like bad_date:<key>
}

// ManageData is GET /o/{org}/contacts/manage and the 422 answers of its forms.
type ManageData struct {
	Tags   []model.Tag // with Count filled
	Fields []model.ContactField
	Tag    TagForm
	Field  FieldForm
}

// TagForm is the new-tag form (POST /contacts/tags: name, color).
type TagForm struct {
	Name   string
	Color  string            // one of model.TagColors; gray when ""
	Errors map[string]string // name, color → i18n key
}

// FieldForm is the new-field form (POST /contacts/fields: label, type, choices).
type FieldForm struct {
	Label   string
	Type    string            // text, number, date or choice; text when ""
	Choices string            // one per line
	Errors  map[string]string // label, type, choices → i18n key
}
