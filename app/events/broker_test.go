package events_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store/storetest"
)

// TestBrokerDeliversAStatementsEvents: one notification naming several events of an org
// (what the call ingest sends for a statement's events) reaches the org's subscribers as
// each event, in order; another org's subscriber gets none of them; a notification of one
// event still works.
func TestBrokerDeliversAStatementsEvents(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, url := storetest.New(t)
	org, err := st.CreateOrg(ctx, "Clínica Sorriso")
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateOrg(ctx, "Padaria Pão Quente")
	if err != nil {
		t.Fatal(err)
	}
	b := events.NewBroker(st, url)
	go func() { _ = b.Run(ctx) }()
	sub, otherSub := b.Subscribe(org.ID), b.Subscribe(other.ID)
	defer sub.Close()
	defer otherSub.Close()
	db := st.DB()
	insert := func(callID string) int64 {
		t.Helper()
		var id int64
		if err := db.Get(&id, `INSERT INTO events (org_id, type, payload) VALUES ($1, 'call.started', $2) RETURNING id`,
			org.ID, `{"call_id": "`+callID+`"}`); err != nil {
			t.Fatal(err)
		}
		return id
	}
	notify := func(payload any) {
		t.Helper()
		b, _ := json.Marshal(payload)
		if _, err := db.Exec(`SELECT pg_notify('masteria_events', $1)`, string(b)); err != nil {
			t.Fatal(err)
		}
	}
	next := func(c <-chan model.Event) (model.Event, bool) {
		select {
		case ev := <-c:
			return ev, true
		case <-time.After(5 * time.Second):
			return model.Event{}, false
		}
	}
	// The listener starts in the background: notify until the first event comes through.
	first := insert("call_first")
	deadline := time.Now().Add(10 * time.Second)
	for {
		notify(map[string]any{"id": first, "org_id": org.ID})
		if ev, ok := next(sub.C); ok && ev.ID == first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broker never delivered")
		}
	}
	for len(sub.C) > 0 { // repeats of the first
		<-sub.C
	}
	ids := []int64{insert("call_a"), insert("call_b"), insert("call_c")}
	notify(map[string]any{"org_id": org.ID, "ids": ids})
	for _, want := range ids {
		ev, ok := next(sub.C)
		if !ok || ev.ID != want || ev.OrgID != org.ID || ev.Type != "call.started" {
			t.Fatalf("got %+v (%v), want event %d", ev, ok, want)
		}
	}
	select {
	case ev := <-otherSub.C:
		t.Fatalf("another org's subscriber got %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}
