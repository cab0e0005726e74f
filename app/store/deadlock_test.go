package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"masteria/app/store"
	"masteria/app/store/storetest"
)

// TestSendsAndStatusesNeverDeadlock runs, many times over the same 50 campaign messages and
// recipients, what a campaign runner writes after a batch of sends (two runners, each its own
// recipients) beside what two status batches write (reports of the same messages, some naming
// a send whose answer is not recorded yet by its Ref), each in its own transaction and each
// with its rows in a random order, as they come. Every writer takes its row locks in one
// order, so PostgreSQL never finds a deadlock: none is returned, none is counted.
func TestSendsAndStatusesNeverDeadlock(t *testing.T) {
	st, url := storetest.New(t)
	ctx := context.Background()
	const n, rounds = 50, 200
	org, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		t.Fatal(err)
	}
	var chID, campID int64
	db := st.DB()
	if err := db.Get(&chID, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'whatsapp_cloud', 'WhatsApp') RETURNING id`, org.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&campID, `INSERT INTO campaigns (org_id, name, channel_id, status) VALUES ($1, 'Promoção', $2, 'running') RETURNING id`, org.ID, chID); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Msg  int64 `db:"msg"`
		Rec  int64 `db:"rec"`
		Conv int64 `db:"conv"`
	}
	if err := db.Select(&rows, `
		WITH c AS (INSERT INTO contacts (org_id, name) SELECT $1, 'Cliente ' || i FROM generate_series(1, $3) i RETURNING id),
		v AS (INSERT INTO conversations (org_id, channel_id, contact_id) SELECT $1, $2, id FROM c RETURNING id, contact_id),
		m AS (INSERT INTO messages (org_id, conversation_id, channel_id, direction, status) SELECT $1, id, $2, 'out', 'queued' FROM v
		      RETURNING id, conversation_id),
		r AS (INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, status, message_id)
		      SELECT $1, $4, $2, v.contact_id, 'claimed', m.id FROM m JOIN v ON v.id = m.conversation_id RETURNING id, message_id)
		SELECT m.id AS msg, r.id AS rec, m.conversation_id AS conv FROM m JOIN r ON r.message_id = m.id ORDER BY m.id`,
		org.ID, chID, n, campID); err != nil {
		t.Fatal(err)
	}

	// The writers' own connections: closed at the end, so their backends report what they
	// counted to pg_stat_database.
	w, err := store.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	before := statDeadlocks(t, st)
	pid := func(round, i int) string { return fmt.Sprintf("wamid.%d.%d", round, i) }
	record := func(round int, idx []int) error {
		var msgs, recs, convs, failedMsgs []int64
		var pids, previews, codes, titles []string
		var sent []store.SentRecipient
		var failed []store.FailedRecipient
		for _, i := range idx {
			msgs, recs = append(msgs, rows[i].Msg), append(recs, rows[i].Rec)
			if i%10 == 9 { // the provider refused it
				failedMsgs, codes, titles = append(failedMsgs, rows[i].Msg), append(codes, "131026"), append(titles, "undeliverable")
				failed = append(failed, store.FailedRecipient{ID: rows[i].Rec, Status: "failed", Code: "131026", Title: "undeliverable"})
				continue
			}
			sent = append(sent, store.SentRecipient{ID: rows[i].Rec, ProviderID: pid(round, i)})
			pids, convs, previews = append(pids, pid(round, i)), append(convs, rows[i].Conv), append(previews, "Olá")
		}
		sentMsgs := msgs[:0:0]
		for _, s := range sent {
			for _, i := range idx {
				if rows[i].Rec == s.ID {
					sentMsgs = append(sentMsgs, rows[i].Msg)
				}
			}
		}
		return w.Tx(ctx, func(tx *store.Store) error {
			if err := tx.LockSends(ctx, org.ID, msgs, recs); err != nil {
				return err
			}
			if err := tx.MarkManySent(ctx, org.ID, sentMsgs, pids); err != nil {
				return err
			}
			if err := tx.MarkRecipientsSent(ctx, org.ID, sent); err != nil {
				return err
			}
			if err := tx.TouchConversations(ctx, org.ID, convs, previews); err != nil {
				return err
			}
			if err := tx.MarkManyFailed(ctx, org.ID, failedMsgs, codes, titles); err != nil {
				return err
			}
			return tx.MarkRecipientsFailed(ctx, org.ID, failed, 0)
		})
	}
	statuses := func(round int, idx []int, status string) error {
		var reps []store.StatusReport
		for _, i := range idx {
			reps = append(reps, store.StatusReport{OrgID: org.ID, ChannelID: chID, ProviderID: pid(round, i), Status: status, RefID: rows[i].Msg})
		}
		return w.Tx(ctx, func(tx *store.Store) error {
			moved, err := tx.ApplyStatusReports(ctx, reps)
			if err != nil {
				return err
			}
			// As the campaign's hooks follow them: one statement per status.
			by := map[string][]int64{}
			var order []string
			for _, m := range moved {
				if _, ok := by[m.Status]; !ok {
					order = append(order, m.Status)
				}
				by[m.Status] = append(by[m.Status], m.ID)
			}
			for _, s := range order {
				if _, err := tx.RecipientsByMessage(ctx, org.ID, by[s], s, "", ""); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var conflicts atomic.Int64
	for round := range rounds {
		if _, err := db.Exec(`UPDATE messages SET status = 'queued', provider_id = NULL WHERE org_id = $1`, org.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE campaign_recipients SET status = 'claimed', provider_id = NULL WHERE org_id = $1`, org.ID); err != nil {
			t.Fatal(err)
		}
		perm := rand.Perm(n)
		writers := []func() error{
			func() error { return record(round, perm[:n/2]) },
			func() error { return record(round, perm[n/2:]) },
			func() error { return statuses(round, rand.Perm(n)[:3*n/5], "sent") },
			func() error { return statuses(round, rand.Perm(n)[:3*n/5], "delivered") },
		}
		var start, done sync.WaitGroup
		start.Add(1)
		for _, f := range writers {
			done.Go(func() {
				start.Wait()
				if err := f(); store.IsTxConflict(err) {
					conflicts.Add(1)
				} else if err != nil {
					t.Error(err)
				}
			})
		}
		start.Done()
		done.Wait()
		if t.Failed() {
			return
		}
	}
	w.Close()
	got := statDeadlocks(t, st) - before
	for deadline := time.Now().Add(5 * time.Second); got < conflicts.Load() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // the closed backends' counts arrive
		got = statDeadlocks(t, st) - before
	}
	if got > 0 || conflicts.Load() > 0 {
		t.Fatalf("%d rounds: PostgreSQL counted %d deadlocks, %d transactions were rolled back for one", rounds, got, conflicts.Load())
	}
	// Every runner's write landed: no recipient is left claimed.
	var claimed int
	if err := db.Get(&claimed, `SELECT count(*) FROM campaign_recipients WHERE org_id = $1 AND status = 'claimed'`, org.ID); err != nil || claimed > 0 {
		t.Fatalf("%d recipients still claimed (%v)", claimed, err)
	}
}

// statDeadlocks is PostgreSQL's count of deadlocks detected in the test's database.
func statDeadlocks(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var n int64
	if err := st.DB().Get(&n, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	return n
}
