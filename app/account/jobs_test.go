package account_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/account"
	"masteria/app/model"
)

func TestCleanupWorkerForgetsWhatExpired(t *testing.T) {
	f := newFixture(t)
	o := f.org("Loja")
	ana := f.user("ana@loja.com", "Ana", false)
	now := time.Now()

	expired, _ := f.session(ana, now.Add(-time.Minute))
	live, _ := f.session(ana, now.Add(time.Hour))

	for _, email := range []string{"old@loja.com", "fresh@loja.com"} {
		if err := f.st.RecordLoginAttempt(f.ctx, email, "203.0.113.7", false); err != nil {
			t.Fatal(err)
		}
	}
	f.exec(`UPDATE login_attempts SET created_at = now() - interval '25 hours' WHERE email = 'old@loja.com'`)

	var ids []int64
	for range 3 {
		e, err := f.st.InsertEvent(f.ctx, o.ID, "org.renamed", []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	f.exec(`UPDATE events SET created_at = now() - interval '8 days' WHERE id = $1`, ids[0])
	f.exec(`UPDATE events SET created_at = now() - interval '6 days' WHERE id = $1`, ids[1])

	// Two labels in the org's list; only "vip" is still on a conversation.
	f.exec(`WITH c AS (INSERT INTO contacts (org_id, name, phone) VALUES ($1, 'Bia', '+5511900001111') RETURNING id),
	             ch AS (INSERT INTO channels (org_id, kind, name) VALUES ($1, 'sandbox', 'Demo') RETURNING id)
	        INSERT INTO conversations (org_id, channel_id, contact_id, labels) SELECT $1, ch.id, c.id, ARRAY['vip'] FROM c, ch`, o.ID)
	f.exec(`INSERT INTO org_labels (org_id, label) VALUES ($1, 'vip'), ($1, 'antiga')`, o.ID)

	w := &account.CleanupWorker{Store: f.st}
	for run := range 2 { // a retry finds nothing more to do and fails nothing
		if err := w.Work(f.ctx, &river.Job[account.CleanupArgs]{}); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
	}

	if n := f.count(`SELECT count(*) FROM sessions WHERE id = $1`, expired); n != 0 {
		t.Errorf("the expired session is still stored")
	}
	if n := f.count(`SELECT count(*) FROM sessions WHERE id = $1`, live); n != 1 {
		t.Errorf("the live session was deleted")
	}
	var emails []string
	if err := f.st.DB().SelectContext(f.ctx, &emails, `SELECT email FROM login_attempts ORDER BY email`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(emails, []string{"fresh@loja.com"}) {
		t.Errorf("login attempts left: %v, want only the fresh one", emails)
	}
	var left []int64
	for _, e := range f.events(o.ID) {
		left = append(left, e.ID)
	}
	if !slices.Equal(left, ids[1:]) {
		t.Errorf("events left: %v, want %v (the week-old one gone)", left, ids[1:])
	}
	if _, err := f.st.Event(f.ctx, o.ID, ids[0]); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("old event: want ErrNotFound, got %v", err)
	}
	if labels, _ := f.st.LabelsInUse(f.ctx, o.ID); !slices.Equal(labels, []string{"vip"}) {
		t.Errorf("labels left: %v, want only the one a conversation has", labels)
	}
}

func TestCleanupArgsKind(t *testing.T) {
	t.Parallel()
	if got := (account.CleanupArgs{}).Kind(); got != "account.cleanup" {
		t.Fatalf("Kind() = %q: the job name is stored in the queue and must not change", got)
	}
}
