package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// TestReadmeListsTheCatalogue keeps the README's event list in step with the catalogue.
func TestReadmeListsTheCatalogue(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := events.Readme(readme)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Fatal("README.md's event list is out of step with app/events/catalogue.go: run go generate ./app/events")
	}
	for _, d := range events.All() {
		if !strings.Contains(string(readme), "`"+d.Name+"`") {
			t.Errorf("README does not list %s", d.Name)
		}
	}
}

// TestCatalogueIsWellFormed: names are unique and dotted (noun.verb, or noun.noun.verb for a
// part of a thing: campaign.recipient.status), every payload is a struct with JSON keys,
// every event says what it means.
func TestCatalogueIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	name := regexp.MustCompile(`^[a-z]+(_[a-z]+)*(\.[a-z]+(_[a-z]+)*){1,2}$`)
	for _, d := range events.All() {
		if seen[d.Name] {
			t.Errorf("%s defined twice", d.Name)
		}
		seen[d.Name] = true
		if !name.MatchString(d.Name) {
			t.Errorf("%q is not noun.verb", d.Name)
		}
		if strings.TrimSpace(d.Description) == "" || !strings.HasSuffix(d.Description, ".") {
			t.Errorf("%s: description %q", d.Name, d.Description)
		}
		if d.Payload.Kind() != reflect.Struct {
			t.Errorf("%s: payload %v is not a struct", d.Name, d.Payload)
			continue
		}
		for f := range d.Payload.Fields() {
			if tag := f.Tag.Get("json"); tag == "" {
				t.Errorf("%s: payload field %s has no json key", d.Name, f.Name)
			}
		}
	}
	for _, n := range []string{"contact.merged", "conversation.started", "message.received", "conversation.presence"} {
		if _, ok := events.Lookup(n); !ok {
			t.Errorf("%s is not in the catalogue", n)
		}
	}
}

// TestPagesListenToCatalogueEvents: every `sse:<event>` a page or script listens for is in
// the catalogue (a misspelt name would never fire).
func TestPagesListenToCatalogueEvents(t *testing.T) {
	listen := regexp.MustCompile(`sse:([a-z_]+\.[a-z_.]+)`)
	found := 0
	for _, dir := range []string{"../../views", "../../static/js"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, "_templ.go") {
				return err
			}
			if ext := filepath.Ext(path); ext != ".templ" && ext != ".js" && ext != ".go" {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range listen.FindAllStringSubmatch(string(b), -1) {
				found++
				if _, ok := events.Lookup(m[1]); !ok {
					t.Errorf("%s listens for %s, which is not in the catalogue", path, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found == 0 {
		t.Fatal("no sse: listeners found: is the walk looking in the right place?")
	}
}

// TestPublishRefusesWhatIsNotCatalogued: an unknown name, a payload of another type (a map,
// another event's payload, a pointer) and the wrong verb are refused and nothing is stored;
// the catalogued event is stored with its payload's JSON.
func TestPublishRefusesWhatIsNotCatalogued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := storetest.New(t)
	org, err := st.CreateOrg(ctx, "Padaria Pão Quente")
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(tx *store.Store) error{
		"unknown name": func(tx *store.Store) error {
			_, err := events.Publish(ctx, tx, org.ID, "lead.teleported", events.LeadRef{LeadID: 1})
			return err
		},
		"map payload": func(tx *store.Store) error {
			_, err := events.Publish(ctx, tx, org.ID, "lead.updated", map[string]any{"lead_id": 1})
			return err
		},
		"another event's payload": func(tx *store.Store) error {
			_, err := events.Publish(ctx, tx, org.ID, events.LeadUpdated.Name(), events.LeadGone{LeadID: 1})
			return err
		},
		"pointer payload": func(tx *store.Store) error {
			_, err := events.Publish(ctx, tx, org.ID, events.LeadUpdated.Name(), &events.LeadRef{LeadID: 1})
			return err
		},
		"pending with a wrong payload": func(tx *store.Store) error {
			return events.Pending{Name: "contact.updated", Payload: events.ContactNew{ID: 1}}.Publish(ctx, tx, org.ID)
		},
		"a transient event published": func(tx *store.Store) error {
			_, err := events.Publish(ctx, tx, org.ID, events.ConversationPresence.Name(), events.Presence{ConversationID: 1})
			return err
		},
	}
	for name, publish := range bad {
		if err := st.Tx(ctx, publish); err == nil {
			t.Errorf("%s: published", name)
		} else if name != "a transient event published" && !errors.Is(err, events.ErrUncatalogued) {
			t.Errorf("%s: %v, want ErrUncatalogued", name, err)
		}
	}
	if err := events.Signal(ctx, st, org.ID, "conversation.peeked", events.Presence{}); !errors.Is(err, events.ErrUncatalogued) {
		t.Errorf("unknown signal: %v", err)
	}
	if err := events.Signal(ctx, st, org.ID, events.ConversationPresence.Name(), map[string]any{}); !errors.Is(err, events.ErrUncatalogued) {
		t.Errorf("signal with a map: %v", err)
	}
	if err := events.Signal(ctx, st, org.ID, events.LeadUpdated.Name(), events.LeadRef{}); err == nil {
		t.Error("a stored event was signalled")
	}
	if evs, _ := st.EventsSince(ctx, org.ID, 0, 10); len(evs) != 0 {
		t.Fatalf("refused events were stored: %+v", evs)
	}

	err = st.Tx(ctx, func(tx *store.Store) error {
		_, err := events.LeadUpdated.Publish(ctx, tx, org.ID, events.LeadRef{LeadID: 7, PipelineID: 3})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.EventsSince(ctx, org.ID, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Type != "lead.updated" {
		t.Fatalf("stored: %+v %v", evs, err)
	}
	if got, err := events.LeadUpdated.Decode(evs[0].Payload); err != nil || got != (events.LeadRef{LeadID: 7, PipelineID: 3}) {
		t.Fatalf("payload %s: %+v %v", evs[0].Payload, got, err)
	}
}

// TestVisible: events outside the catalogue never reach a page; presence in another
// agent's conversation does not reach an agent of an org that restricts agents.
func TestVisible(t *testing.T) {
	agent := model.Actor{OrgID: 1, UserID: 5, Role: model.RoleAgent}
	manager := model.Actor{OrgID: 1, UserID: 6, Role: model.RoleManager}
	presence := func(assignee int64, restricted bool) model.Event {
		b, _ := json.Marshal(events.Presence{ConversationID: 1, UserID: 9, Name: "Ana", State: "typing",
			AssigneeID: assignee, AgentsRestricted: restricted})
		return model.Event{Type: "conversation.presence", Payload: b}
	}
	cases := []struct {
		name string
		ev   model.Event
		a    model.Actor
		want bool
	}{
		{"catalogued", model.Event{Type: "lead.moved", Payload: []byte(`{}`)}, agent, true},
		{"retired name", model.Event{Type: "contacts.toast.deleted", Payload: []byte(`{}`)}, manager, false},
		{"presence, unrestricted", presence(7, false), agent, true},
		{"presence, own conversation", presence(5, true), agent, true},
		{"presence, unassigned", presence(0, true), agent, true},
		{"presence, another agent's", presence(7, true), agent, false},
		{"presence, manager", presence(7, true), manager, true},
		{"presence, bad payload", model.Event{Type: "conversation.presence", Payload: []byte(`nope`)}, manager, false},
	}
	for _, c := range cases {
		if got := events.Visible(c.ev, c.a); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
