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

// TestStreamSendsAnEventThatCommitsLate: ids are taken when an event is written, so a long
// transaction's event can commit after a later one was streamed. It still reaches the
// stream (a high-water mark on ids dropped it, and a page waiting on it stayed stale).
func TestStreamSendsAnEventThatCommitsLate(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Padaria Trigo", "Lara", uniqueEmail("lara"), strongPassword)
	orgID, _ := strconv.ParseInt(strings.TrimPrefix(home, "/o/"), 10, 64)
	ctx := context.Background()
	stream := openStream(t, c, "/events?org="+strconv.FormatInt(orgID, 10), "")

	written, release := make(chan int64), make(chan struct{})
	slow := make(chan error, 1)
	go func() {
		slow <- inst.App.Store.Tx(ctx, func(tx *store.Store) error {
			ev, err := events.ContactUpdated.Publish(ctx, tx, orgID, events.ContactRef{ID: 1})
			if err != nil {
				return err
			}
			written <- ev.ID
			<-release // commits after the next event
			return nil
		})
	}()
	slowID := <-written
	var fastID int64
	if err := inst.App.Store.Tx(ctx, func(tx *store.Store) error {
		ev, err := events.ContactUpdated.Publish(ctx, tx, orgID, events.ContactRef{ID: 2})
		fastID = ev.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if fastID <= slowID {
		t.Fatalf("ids %d then %d: the test needs the late one lower", slowID, fastID)
	}
	if ev := next(t, stream, "contact.updated"); ev.Data["id"] != float64(2) {
		t.Fatalf("first event: %+v", ev)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if ev := next(t, stream, "contact.updated"); ev.Data["id"] != float64(1) || ev.ID != strconv.FormatInt(slowID, 10) {
		t.Fatalf("the late event: %+v", ev)
	}
}
