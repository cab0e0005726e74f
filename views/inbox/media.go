package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"masteria/app/model"
	"masteria/views/ui"
)

// acceptTypes is the file input's accept list: the types WhatsApp sends (the server
// checks again).
func acceptTypes() string {
	return strings.Join([]string{
		"image/jpeg", "image/png", "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg",
		"video/mp4", "video/3gpp", "text/plain", "application/pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
	}, ",")
}

func fileLabel(ctx context.Context, f model.File) string {
	if f.Name != "" {
		return f.Name
	}
	return ui.T(ctx, "media.kind."+f.Kind())
}

// fileSize is a size for people: 820 KB, 4.2 MB.
func fileSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// pendingMedia is an inbound file not downloaded yet.
func pendingMedia(m model.Message) bool {
	if m.Direction != "in" {
		return false
	}
	switch m.Kind {
	case "image", "audio", "video", "document", "sticker":
		return true
	}
	var c struct {
		Media []json.RawMessage `json:"media"`
	}
	_ = json.Unmarshal(m.Content, &c)
	return len(c.Media) > 0
}

// sharedLocation is a location message's content, as WhatsApp sends it.
type sharedLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
}

func location(m model.Message) (sharedLocation, bool) {
	var l sharedLocation
	if json.Unmarshal(m.Content, &l) != nil || (l.Latitude == 0 && l.Longitude == 0) {
		return l, false
	}
	return l, true
}

// MapURL opens the place on a map.
func (l sharedLocation) MapURL() string {
	q := url.Values{"mlat": {fmt.Sprint(l.Latitude)}, "mlon": {fmt.Sprint(l.Longitude)}}
	return "https://www.openstreetmap.org/?" + q.Encode() + fmt.Sprintf("#map=17/%f/%f", l.Latitude, l.Longitude)
}

// Label names the place, or its coordinates.
func (l sharedLocation) Label(ctx context.Context) string {
	parts := []string{}
	for _, p := range []string{l.Name, l.Address} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s %.5f, %.5f", ui.T(ctx, "media.location"), l.Latitude, l.Longitude)
	}
	return strings.Join(parts, " · ")
}

func hasMedia(m model.Message) bool {
	_, loc := location(m)
	return len(m.Files()) > 0 || pendingMedia(m) || (m.Kind == "location" && loc)
}

// mediaCapable channel kinds take attachments.
func mediaCapable(kind string) bool {
	return kind == model.KindWhatsAppCloud || kind == model.KindTwilioSMS || kind == model.KindSandbox
}
