package compose

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"masteria/app/model"
)

// resolveCase is one case of testdata/resolve.json, which the launch query's test of
// MissingSQL reads too.
type resolveCase struct {
	What    string `json:"what"`
	Contact struct {
		Name       string          `json:"name"`
		Phone      *string         `json:"phone"`
		Email      *string         `json:"email"`
		Attributes json.RawMessage `json:"attributes"`
	} `json:"contact"`
	Mapping Mapping  `json:"mapping"`
	Params  []string `json:"params"`
	Missing []int    `json:"missing"`
}

func TestResolveCases(t *testing.T) {
	b, err := os.ReadFile("testdata/resolve.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []resolveCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 5 {
		t.Fatalf("only %d cases", len(file.Cases))
	}
	for _, c := range file.Cases {
		ct := model.Contact{Name: c.Contact.Name, Phone: c.Contact.Phone, Email: c.Contact.Email, Attributes: c.Contact.Attributes}
		params, missing := Resolve(c.Mapping, ct)
		if !slices.Equal(params, c.Params) || !slices.Equal(missing, c.Missing) {
			t.Errorf("%s: params %q missing %v; want %q %v", c.What, params, missing, c.Params, c.Missing)
		}
	}
}

func TestMappingJSON(t *testing.T) {
	const doc = `[{"source":"field","field":"first_name","fallback":"cliente"}, {"source":"custom","key":"cidade"}, {"source":"text","text":"10%"}]`
	var m Mapping
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	want := Mapping{
		{Source: SourceField, Field: FieldFirstName, Fallback: "cliente"},
		{Source: SourceCustom, Key: "cidade"},
		{Source: SourceText, Text: "10%"},
	}
	if !slices.Equal(m, want) {
		t.Fatalf("read %+v", m)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(m)
	if string(out) != `[{"source":"field","field":"first_name","fallback":"cliente"},{"source":"custom","key":"cidade"},{"source":"text","text":"10%"}]` {
		t.Fatalf("wrote %s", out)
	}
}

func TestMappingValidate(t *testing.T) {
	cases := []struct {
		m      Mapping
		reason string
		pos    int
	}{
		{Mapping{}, "", 0},
		{Mapping{{Source: SourceField, Field: FieldEmail}, {Name: "codigo", Source: SourceText, Text: "X1"}}, "", 0},
		{Mapping{{Source: SourceField, Field: FieldName}, {Source: "crm"}}, ReasonBadSource, 1},
		{Mapping{{Source: ""}}, ReasonBadSource, 0},
		{Mapping{{Source: SourceField, Field: "nome"}}, ReasonBadField, 0}, // the JSON takes the English names only
		{Mapping{{Source: SourceCustom, Key: "Cidade"}}, ReasonBadField, 0},
		{Mapping{{Source: SourceCustom, Key: "a\x00"}}, ReasonBadField, 0},
		{Mapping{{Source: SourceCustom}}, ReasonBadField, 0},
		{Mapping{{Source: SourceText, Text: " \n"}}, ReasonEmptyText, 0},
	}
	for _, c := range cases {
		err := c.m.Validate()
		var e *Error
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("%+v: %v", c.m, err)
		case c.reason != "" && (!errors.As(err, &e) || e.Reason != c.reason || e.Pos != c.pos):
			t.Errorf("%+v: %v, want %s at %d", c.m, err, c.reason, c.pos)
		case e != nil && e.Error() == "":
			t.Errorf("%s has no message", e.Reason)
		}
	}
}

func TestResolveNeverPanics(t *testing.T) {
	for _, attrs := range []string{"", "null", "[1,2]", `{"k":"\u0000"}`, `{"k":{"a":1}}`, "{\"k\":\"\xff\"}", `{"k":"x"`} {
		c := model.Contact{Name: "\xff\x00", Attributes: json.RawMessage(attrs)}
		params, _ := Resolve(Mapping{{Source: SourceCustom, Key: "k"}, {Source: SourceField, Field: FieldFirstName}}, c)
		if len(params) != 2 {
			t.Fatalf("%q: %q", attrs, params)
		}
	}
}
