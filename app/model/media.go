package model

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// Media is a file kept in blob storage: a customer's photo, an agent's attachment.
type Media struct {
	ID        int64     `db:"id" json:"id"`
	OrgID     int64     `db:"org_id" json:"-"`
	Key       string    `db:"key" json:"-"`
	MIME      string    `db:"mime" json:"mime"`
	Size      int64     `db:"size" json:"size"`
	Filename  string    `db:"filename" json:"filename"`
	SHA256    string    `db:"sha256" json:"sha256"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// File is a stored file as a message's content lists it ("files").
type File struct {
	ID   int64  `json:"id"`
	MIME string `json:"mime"`
	Name string `json:"name,omitempty"`
	Size int64  `json:"size"`
}

// Kind is the message kind a file of this type makes: image, video, audio or document.
func (f File) Kind() string { return MediaKind(f.MIME) }

// MediaKind is the message kind of a MIME type: image, video, audio or document.
func MediaKind(mime string) string {
	switch {
	case len(mime) > 6 && mime[:6] == "image/":
		return "image"
	case len(mime) > 6 && mime[:6] == "video/":
		return "video"
	case len(mime) > 6 && mime[:6] == "audio/":
		return "audio"
	}
	return "document"
}

// Files reads the stored files of a message's content; none when it has no "files".
func (m Message) Files() []File {
	var c struct {
		Files []File `json:"files"`
	}
	if len(m.Content) == 0 || json.Unmarshal(m.Content, &c) != nil {
		return nil
	}
	return c.Files
}

// Template is a WhatsApp message template of a channel, as last synced from the provider.
type Template struct {
	ID         int64           `db:"id" json:"id"`
	OrgID      int64           `db:"org_id" json:"-"`
	ChannelID  int64           `db:"channel_id" json:"channel_id"`
	ProviderID string          `db:"provider_id" json:"provider_id"`
	Name       string          `db:"name" json:"name"`
	Language   string          `db:"language" json:"language"`
	Category   string          `db:"category" json:"category"`
	Status     string          `db:"status" json:"status"`
	Components json.RawMessage `db:"components" json:"components"`
	SyncedAt   time.Time       `db:"synced_at" json:"synced_at"`
}

// TemplateSync is the last template sync of a channel.
type TemplateSync struct {
	SyncedAt *time.Time `db:"synced_at"`
	Error    string     `db:"error"`
}

// TemplateShape is what the composer needs of a template: its texts and how many
// parameters each takes.
type TemplateShape struct {
	Header string // a text header, "" for none or a media header
	// HeaderMedia is the format of a media header: IMAGE, VIDEO or DOCUMENT; "" for a
	// text header or none. A send of the template must carry a file of that kind.
	HeaderMedia  string
	Body         string
	Footer       string
	HeaderParams int
	BodyParams   int
}

var templateVar = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// Shape reads the template's components (as the Graph API lists them).
func (t Template) Shape() TemplateShape {
	var comps []struct {
		Type   string `json:"type"`
		Format string `json:"format"`
		Text   string `json:"text"`
	}
	_ = json.Unmarshal(t.Components, &comps)
	var out TemplateShape
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			switch f := strings.ToUpper(c.Format); f {
			case "", "TEXT":
				out.Header, out.HeaderParams = c.Text, countParams(c.Text)
			case "IMAGE", "VIDEO", "DOCUMENT":
				out.HeaderMedia = f
			}
		case "BODY":
			out.Body, out.BodyParams = c.Text, countParams(c.Text)
		case "FOOTER":
			out.Footer = c.Text
		}
	}
	return out
}

// HeaderMediaKind is the message kind of a media header (image, video, document), "" for
// none.
func (s TemplateShape) HeaderMediaKind() string { return strings.ToLower(s.HeaderMedia) }

// HeaderAccepts says whether a file of this MIME type fits the media header: an image
// for IMAGE, a video for VIDEO, anything but an image, video or audio for DOCUMENT.
func (s TemplateShape) HeaderAccepts(mime string) bool {
	return s.HeaderMedia != "" && MediaKind(mime) == s.HeaderMediaKind()
}

// countParams counts the distinct {{…}} variables of a text.
func countParams(text string) int {
	seen := map[string]bool{}
	for _, m := range templateVar.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}

// Fill puts the values in a text's variables, in the order the variables first appear;
// one without a value stays as written.
func Fill(text string, values []string) string {
	order := map[string]int{}
	for _, m := range templateVar.FindAllStringSubmatch(text, -1) {
		if _, ok := order[m[1]]; !ok {
			order[m[1]] = len(order)
		}
	}
	return templateVar.ReplaceAllStringFunc(text, func(s string) string {
		i := order[templateVar.FindStringSubmatch(s)[1]]
		if i < len(values) {
			return values[i]
		}
		return s
	})
}
