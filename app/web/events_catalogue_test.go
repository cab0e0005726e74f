package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"masteria/app/events"
	"masteria/app/store"
	"masteria/app/web/webtest"
)

// TestStreamSendsOnlyCatalogueEvents: an event row whose name is not in the catalogue (a
// retired name still in the table) is neither replayed nor streamed live; the catalogued
// ones around it are.
func TestStreamSendsOnlyCatalogueEvents(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Floricultura Ipê", "Kelly", uniqueEmail("kelly"), strongPassword)
	orgID, _ := strconv.ParseInt(strings.TrimPrefix(home, "/o/"), 10, 64)
	ctx := context.Background()
	var retiredID int64
	publish := func(typ string, known bool, id int64) {
		t.Helper()
		err := inst.App.Store.Tx(ctx, func(tx *store.Store) error {
			if !known { // bypass the catalogue, as an old row would be
				ev, err := tx.InsertEvent(ctx, orgID, typ, []byte(`{"ids":[1]}`))
				retiredID = ev.ID
				return err
			}
			_, err := events.ContactUpdated.Publish(ctx, tx, orgID, events.ContactRef{ID: id})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// until reads a stream up to the contact.updated event of contact id, and returns the
	// types it saw on the way.
	until := func(ch <-chan sseEvent, id float64) []string {
		t.Helper()
		var seen []string
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatal("stream closed")
				}
				seen = append(seen, ev.Type)
				if ev.Type == "contact.updated" && ev.Data["id"] == id {
					return seen
				}
			case <-deadline:
				t.Fatalf("no contact.updated %v; saw %v", id, seen)
			}
		}
	}
	stream := openStream(t, c, "/events?org="+strconv.FormatInt(orgID, 10), "")
	publish("contacts.toast.deleted", false, 0)
	publish("contact.updated", true, 7)
	live := until(stream, 7)
	// A client resuming from just before the retired row replays past it.
	replayed := until(openStream(t, c, "/events?org="+strconv.FormatInt(orgID, 10), strconv.FormatInt(retiredID-1, 10)), 7)
	for _, typ := range append(live, replayed...) {
		if typ == "contacts.toast.deleted" {
			t.Fatalf("an event outside the catalogue was streamed: live %v, replayed %v", live, replayed)
		}
	}
}
