package twiliosim

import (
	"net/http"
	"strings"
)

// handleAccount is GET /2010-04-01/Accounts/{AccountSid}.json: the account resource, as the
// app's "Test" button reads it to check the SID and auth token.
func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	sid, isJSON := strings.CutSuffix(r.PathValue("file"), ".json")
	if !isJSON {
		s.handleNotFound(w, r)
		return
	}
	r.SetPathValue("AccountSid", sid)
	acct, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sid": acct.sid, "friendly_name": "Simulated account " + acct.sid[len(acct.sid)-4:], "status": "active", "type": "Full",
		"uri": "/2010-04-01/Accounts/" + acct.sid + ".json",
	})
}

// handleIncomingNumbers is GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json,
// filtered by ?PhoneNumber= like Twilio's list: the account's numbers only.
func (s *Server) handleIncomingNumbers(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authenticate(w, r)
	if !ok || s.failQueued(w, OpFindNumber) {
		return
	}
	want := r.URL.Query().Get("PhoneNumber")
	list := []map[string]any{}
	s.mu.Lock()
	for _, n := range s.numbers {
		if n.account == acct.sid && (want == "" || n.phone == want) {
			list = append(list, s.renderNumber(n))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"incoming_phone_numbers": list, "page": 0, "page_size": 50})
}
