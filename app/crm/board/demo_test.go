package board_test

import (
	"testing"

	"masteria/app/crm"
)

// The demo board has leads of the demo contacts, among them those the demo inbox talks to,
// and a second run adds nothing.
func TestSeedDemoBoard(t *testing.T) {
	f := newFixture(t)
	if err := crm.New(f.st).SeedDemo(f.ctx, f.as); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.svc.SeedDemo(f.ctx, f.as); err != nil {
			t.Fatal(err)
		}
	}
	var leads, linked int
	_ = f.st.DB().Get(&leads, `SELECT count(*) FROM leads WHERE org_id = $1`, f.org.ID)
	// The demo inbox's customers (app/inbox/demo.go).
	_ = f.st.DB().Get(&linked, `SELECT count(*) FROM leads l JOIN contacts c ON c.id = l.contact_id AND c.org_id = $1
		WHERE l.org_id = $1 AND c.phone IN ('+5511981001000', '+5521981741422', '+5561984332899')`, f.org.ID)
	if leads != 5 || linked != 3 {
		t.Fatalf("%d demo leads, %d of them with a demo conversation's contact", leads, linked)
	}
}
