package campaign

import (
	"encoding/json"
	"strings"

	"masteria/app/campaign/compose"
	"masteria/app/model"
)

// checkText validates a text variant's {{fields}} and {spintax}.
func checkText(text string) error { return compose.Validate(text) }

// variantVars are the values a variant needs from each contact, in a fixed order: a
// template's body variables then its header's, or a text's distinct placeholders. The
// launch resolves them in SQL (missing ones skip the recipient) and keeps them on the row.
func variantVars(v model.Variant) []model.VarMap {
	if v.TemplateID != 0 || v.Template != "" {
		return append(append([]model.VarMap{}, v.Vars...), v.HeaderVars...)
	}
	t, err := compose.Parse(v.Text)
	if err != nil {
		return nil
	}
	var out []model.VarMap
	for _, x := range t.Mapping() {
		out = append(out, model.VarMap{Source: x.Source, Field: x.Field, Key: x.Key, Text: x.Text, Fallback: x.Fallback})
	}
	return out
}

// rendered is one recipient's message.
type rendered struct {
	Kind, Body   string
	Params       []string // template body variables
	HeaderParams []string
}

// variantParams reads a recipient's resolved values of one variant from the row's params
// (an array per variant).
func variantParams(raw json.RawMessage, variant int) []string {
	var all [][]*string
	if json.Unmarshal(raw, &all) != nil || variant >= len(all) {
		return nil
	}
	out := make([]string, len(all[variant]))
	for i, p := range all[variant] {
		if p != nil {
			out[i] = *p
		}
	}
	return out
}

// render writes a recipient's message of variant v from its resolved values; a text's
// spintax is chosen by the recipient id, so a retry sends the same words.
func render(v model.Variant, t *model.Template, values []string, seed int64) rendered {
	if t != nil {
		n := len(v.Vars)
		params, header := values, []string(nil)
		if len(values) >= n {
			params, header = values[:n], values[n:]
		}
		shape := t.Shape()
		body := model.Fill(shape.Body, params)
		if shape.Header != "" {
			body = model.Fill(shape.Header, header) + "\n\n" + body
		}
		return rendered{Kind: "template", Body: body, Params: params, HeaderParams: header}
	}
	// The values stand for the contact: each placeholder reads back what the launch resolved.
	var c model.Contact
	attrs := map[string]string{}
	for i, m := range variantVars(v) {
		if i >= len(values) {
			break
		}
		switch {
		case m.Source == "field" && m.Field == "name":
			c.Name = values[i]
		case m.Source == "field" && m.Field == "first_name" && c.Name == "":
			c.Name = values[i]
		case m.Source == "field" && m.Field == "phone":
			p := values[i]
			c.Phone = &p
		case m.Source == "field" && m.Field == "email":
			e := values[i]
			c.Email = &e
		case m.Source == "custom":
			attrs[m.Key] = values[i]
		}
	}
	c.Attributes, _ = json.Marshal(attrs)
	body, _, _ := compose.Render(v.Text, c, seed)
	return rendered{Kind: "text", Body: strings.TrimSpace(body)}
}
