package events_test

import (
	"testing"

	"masteria/app/events"
	"masteria/app/model"
)

// TestKBStatusOnlyForManagers: an agent, who cannot open knowledge bases, is not sent
// their documents' statuses.
func TestKBStatusOnlyForManagers(t *testing.T) {
	ev := model.Event{Type: events.KBDocumentStatus.Name(), Payload: []byte(`{"document_id":1,"status":"failed","error":"x"}`)}
	for role, want := range map[model.Role]bool{model.RoleAgent: false, model.RoleManager: true, model.RoleOwner: true} {
		if got := events.Visible(ev, model.Actor{OrgID: 1, Role: role}); got != want {
			t.Errorf("%s sees kb.document.status: %v, want %v", role, got, want)
		}
	}
}
