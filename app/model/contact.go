package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// Channel kinds a contact can opt out of.
const (
	ChannelWhatsApp = "whatsapp"
	ChannelSMS      = "sms"
	ChannelVoice    = "voice"
)

// ChannelKinds lists the kinds a contact can opt out of, for forms and validation.
var ChannelKinds = []string{ChannelWhatsApp, ChannelSMS, ChannelVoice}

// Contact is a person or business an org talks to.
type Contact struct {
	ID             int64           `db:"id" json:"id"`
	OrgID          int64           `db:"org_id" json:"-"`
	Name           string          `db:"name" json:"name"`
	Phone          *string         `db:"phone" json:"phone"`
	Email          *string         `db:"email" json:"email"`
	OwnerID        *int64          `db:"owner_id" json:"owner_id"`
	OwnerName      *string         `db:"owner_name" json:"owner_name,omitempty"`
	TagIDs         []int64         `db:"-" json:"tag_ids"`
	Attributes     json.RawMessage `db:"attributes" json:"attributes"`
	OptedOut       []string        `db:"-" json:"opted_out"`
	CreatedAt      time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at" json:"updated_at"`
	LastActivityAt time.Time       `db:"last_activity_at" json:"last_activity_at"`
}

// OptedOutOf tells whether the contact refused messages on a channel kind.
func (c Contact) OptedOutOf(kind string) bool {
	for _, k := range c.OptedOut {
		if k == kind {
			return true
		}
	}
	return false
}

// Tag labels contacts; an org defines its own.
type Tag struct {
	ID        int64     `db:"id" json:"id"`
	OrgID     int64     `db:"org_id" json:"-"`
	Name      string    `db:"name" json:"name"`
	Color     string    `db:"color" json:"color"`
	Count     int64     `db:"count" json:"count"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// TagColors are the colours a tag may take (CSS classes tag-<color>).
var TagColors = []string{"gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"}

// Custom field types.
const (
	FieldText   = "text"
	FieldNumber = "number"
	FieldDate   = "date"
	FieldChoice = "choice"
)

// ContactField is a typed field an org adds to its contacts.
type ContactField struct {
	ID        int64     `db:"id" json:"id"`
	OrgID     int64     `db:"org_id" json:"-"`
	Key       string    `db:"key" json:"key"`
	Label     string    `db:"label" json:"label"`
	Type      string    `db:"type" json:"type"`
	Choices   []string  `db:"-" json:"choices"`
	Position  int       `db:"position" json:"position"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// ContactEvent is one line of a contact's timeline.
type ContactEvent struct {
	ID        int64           `db:"id" json:"id"`
	OrgID     int64           `db:"org_id" json:"-"`
	ContactID int64           `db:"contact_id" json:"contact_id"`
	Kind      string          `db:"kind" json:"kind"`
	ActorID   *int64          `db:"actor_id" json:"actor_id"`
	ActorName *string         `db:"actor_name" json:"actor_name"`
	Data      json.RawMessage `db:"data" json:"data"`
	CreatedAt time.Time       `db:"created_at" json:"created_at"`
	// Source is the timeline branch the line came from (events, conversations, notes):
	// with the time and id it orders the timeline and marks where a page ends.
	Source int `db:"src" json:"-"`
}

// TimelineCursor is where a page of a contact's timeline ended: its last line's time,
// source and id. Lines written in one transaction share a time, so the time alone would
// skip some; in a URL it reads "µs.source.id".
type TimelineCursor struct {
	At     time.Time
	Source int
	ID     int64
}

// CursorAfter is the cursor of the page that ends with e.
func CursorAfter(e ContactEvent) TimelineCursor {
	return TimelineCursor{At: e.CreatedAt, Source: e.Source, ID: e.ID}
}

func (c TimelineCursor) String() string {
	if c.At.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", c.At.UnixMicro(), c.Source, c.ID)
}

// ParseTimelineCursor reads a cursor from a URL; anything else is the newest page.
func ParseTimelineCursor(s string) TimelineCursor {
	var us, id int64
	var src int
	if n, err := fmt.Sscanf(s, "%d.%d.%d", &us, &src, &id); err != nil || n != 3 || us <= 0 {
		return TimelineCursor{}
	}
	return TimelineCursor{At: time.UnixMicro(us), Source: src, ID: id}
}

// Segment is a saved contact filter.
type Segment struct {
	ID        int64           `db:"id" json:"id"`
	OrgID     int64           `db:"org_id" json:"-"`
	Name      string          `db:"name" json:"name"`
	Filter    json.RawMessage `db:"filter" json:"filter"`
	CreatedBy *int64          `db:"created_by" json:"created_by"`
	CreatedAt time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt time.Time       `db:"updated_at" json:"updated_at"`
}

// What a CSV import does with a contact already there (same phone).
const (
	ImportSkip      = "skip"      // leave it as it is
	ImportFill      = "fill"      // set only the fields it has empty
	ImportOverwrite = "overwrite" // replace each field the file has
)

// ContactImport is a CSV import and, once run, its report.
type ContactImport struct {
	ID         int64           `db:"id" json:"id"`
	OrgID      int64           `db:"org_id" json:"-"`
	CreatedBy  *int64          `db:"created_by" json:"created_by"`
	FileName   string          `db:"file_name" json:"file_name"`
	Mapping    json.RawMessage `db:"mapping" json:"mapping"`
	OnExisting string          `db:"on_existing" json:"on_existing"`
	Delimiter  string          `db:"delimiter" json:"delimiter"` // the upload's, for the rejected-rows file
	Status     string          `db:"status" json:"status"`
	Total      int             `db:"total" json:"total"`
	Processed  int             `db:"processed" json:"processed"`
	Imported   int             `db:"imported" json:"imported"`
	Updated    int             `db:"updated" json:"updated"`
	Skipped    int             `db:"skipped" json:"skipped"`
	Rejected   int             `db:"rejected" json:"rejected"`
	Error      string          `db:"error" json:"error"`
	CreatedAt  time.Time       `db:"created_at" json:"created_at"`
	FinishedAt *time.Time      `db:"finished_at" json:"finished_at"`
}

// ImportReject is one CSV row an import refused, with why.
type ImportReject struct {
	Line   int    `db:"line" json:"line"`
	Reason string `db:"reason" json:"reason"`
	Raw    string `db:"raw" json:"raw"`
}
