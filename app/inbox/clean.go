package inbox

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// cleanText drops NUL bytes and replaces invalid UTF-8: PostgreSQL stores neither in text,
// and one such message must not cost the others of a provider's batch.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// cleanJSON is raw with every string cleaned the same way (jsonb refuses \u0000); what is
// not JSON becomes {}.
func cleanJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	if !bytes.Contains(raw, []byte(`\u0000`)) && utf8.Valid(raw) && json.Valid(raw) {
		return raw // the usual case: nothing to clean
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.ToValidUTF8(raw, []byte("\uFFFD"))))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(cleanValue(v))
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

func cleanValue(v any) any {
	switch x := v.(type) {
	case string:
		return cleanText(x)
	case []any:
		for i := range x {
			x[i] = cleanValue(x[i])
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[cleanText(k)] = cleanValue(e)
		}
		return out
	}
	return v
}

// clean is the message with its text fields cleaned.
func clean(in Inbound) Inbound {
	for _, f := range []*string{&in.From, &in.UserID, &in.ParentUserID, &in.Username, &in.JID, &in.LID, &in.Name,
		&in.ProviderID, &in.Kind, &in.Body, &in.NewPhone, &in.NewUserID, &in.NewParentUserID, &in.SharedPhone, &in.Keyword} {
		*f = cleanText(*f)
	}
	in.Content = cleanJSON(in.Content)
	return in
}
