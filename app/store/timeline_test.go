package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/store/storetest"
)

// TestTimelineHasCampaignSends: each campaign send of a contact is one line at the time
// of its latest step, with the campaign and, for a failure, the provider's code and words;
// skipped and waiting recipients are not lines, nor is another org's campaign; pages
// through the lines skip none.
func TestTimelineHasCampaignSends(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	db := st.DB()
	org, _ := st.CreateOrg(ctx, "Loja")
	stranger, _ := st.CreateOrg(ctx, "Outra")
	contactID, err := st.CreateContact(ctx, model.Contact{OrgID: org.ID, Name: "Bia"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	campaign := func(orgID int64, name string) int64 {
		t.Helper()
		var id int64
		if err := db.Get(&id, `INSERT INTO campaigns (org_id, name, status) VALUES ($1, $2, 'completed') RETURNING id`, orgID, name); err != nil {
			t.Fatal(err)
		}
		return id
	}
	recipient := func(orgID, campaignID int64, status, code, title string, sent, delivered, read, failed *time.Time) {
		t.Helper()
		if _, err := db.Exec(`INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, status, error_code, error_title,
			sent_at, delivered_at, read_at, failed_at, updated_at) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			orgID, campaignID, contactID, status, code, title, sent, delivered, read, failed, at(100)); err != nil {
			t.Fatal(err)
		}
	}
	tp := func(h int) *time.Time { v := at(h); return &v }
	promo := campaign(org.ID, "Promo de junho")
	recipient(org.ID, promo, "read", "", "", tp(1), tp(2), tp(3), nil)
	aviso := campaign(org.ID, "Aviso")
	recipient(org.ID, aviso, "failed", "131026", "Message undeliverable", nil, nil, nil, tp(4))
	held := campaign(org.ID, "Oferta")
	recipient(org.ID, held, "capped", "131049", "Healthy ecosystem", tp(5), nil, nil, tp(6))
	recipient(org.ID, campaign(org.ID, "Pulada"), "skipped", "", "", nil, nil, nil, nil)
	recipient(org.ID, campaign(org.ID, "Na fila"), "pending", "", "", nil, nil, nil, nil)
	// Another org's campaign naming this contact (its own row) is not on this timeline.
	recipient(stranger.ID, campaign(stranger.ID, "Alheia"), "sent", "", "", tp(7), nil, nil, nil)

	evs, err := st.ContactTimeline(ctx, org.ID, contactID, model.TimelineCursor{}, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		CampaignID   int64  `json:"campaign_id"`
		CampaignName string `json:"campaign_name"`
		Status       string `json:"status"`
		ErrorCode    string `json:"error_code"`
		ErrorTitle   string `json:"error_title"`
	}
	var got []line
	for _, ev := range evs {
		if ev.Kind != "campaign" {
			continue
		}
		var l line
		if err := json.Unmarshal(ev.Data, &l); err != nil {
			t.Fatal(err)
		}
		if ev.Source != 3 || ev.ContactID != contactID || ev.ActorID != nil {
			t.Errorf("line %+v", ev)
		}
		want := map[string]time.Time{"read": at(3), "failed": at(4), "capped": at(6)}[l.Status]
		if !ev.CreatedAt.Equal(want) {
			t.Errorf("%s line at %s, want %s", l.Status, ev.CreatedAt, want)
		}
		got = append(got, l)
	}
	want := []line{
		{held, "Oferta", "capped", "131049", "Healthy ecosystem"},
		{aviso, "Aviso", "failed", "131026", "Message undeliverable"},
		{promo, "Promo de junho", "read", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("campaign lines %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// One line a page, through the cursor: every line once.
	seen := map[int64]bool{}
	after := model.TimelineCursor{}
	for range 10 {
		page, err := st.ContactTimeline(ctx, org.ID, contactID, after, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if page[0].Kind == "campaign" {
			if seen[page[0].ID] {
				t.Fatalf("recipient %d shown twice", page[0].ID)
			}
			seen[page[0].ID] = true
		}
		after = model.ParseTimelineCursor(model.CursorAfter(page[0]).String())
	}
	if len(seen) != 3 {
		t.Fatalf("paging showed %d campaign lines", len(seen))
	}

	// The other org, asking for this contact, sees no campaign line of it.
	evs, err = st.ContactTimeline(ctx, stranger.ID, contactID, model.TimelineCursor{}, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == "campaign" && ev.OrgID != stranger.ID {
			t.Fatalf("another org's line: %+v", ev)
		}
	}
}
