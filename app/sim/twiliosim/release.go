package twiliosim

import (
	"net/http"
	"slices"
	"strings"
)

// Throttle makes the next n calls of op answer 429 with code 20429 ("Too Many Requests")
// and a Retry-After header of retryAfter ("" sends none, "1" asks for a second, or an HTTP
// date), as Twilio does when an account sends too many requests at once; nothing is changed.
func (s *Server) Throttle(op Op, n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.voice.failOps == nil {
		s.voice.failOps = map[Op][]apiError{}
	}
	for range n {
		e := newAPIError(http.StatusTooManyRequests, 20429, "Too Many Requests")
		e.retryAfter = retryAfter
		s.voice.failOps[op] = append(s.voice.failOps[op], e)
	}
}

// Released returns the numbers given back through the REST API, oldest first.
func (s *Server) Released() []Purchase {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.voice.released)
}

// Owns reports whether the account holds the number (bought or added, not released).
func (s *Server) Owns(accountSid, phone string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.byPhone[phone]
	return n != nil && n.account == accountSid
}

func (s *Server) releaseRoutes(mux *http.ServeMux) {
	const acct = "/2010-04-01/Accounts/{AccountSid}"
	mux.HandleFunc("DELETE "+acct+"/IncomingPhoneNumbers/{file}", s.handleReleaseNumber)
	mux.HandleFunc("DELETE "+acct+"/SIP/CredentialLists/{file}", s.handleDeleteCredList)
	mux.HandleFunc("DELETE /v1/Trunks/{TK}/PhoneNumbers/{PN}", s.handleDetachNumber)
	mux.HandleFunc("DELETE /v1/Trunks/{TK}/CredentialLists/{CL}", s.handleDetachCredList)
	mux.HandleFunc("DELETE /v1/Trunks/{TK}/OriginationUrls/{OU}", s.handleDeleteOrigination)
}

// handleReleaseNumber is DELETE IncomingPhoneNumbers/{PN}.json: the number leaves the
// account and any trunk; 404 (20404) when the account does not hold it.
func (s *Server) handleReleaseNumber(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpReleaseNumber)
	if acct == nil {
		return
	}
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	n := s.numbers[sid]
	if !ok || n == nil || n.account != acct.sid {
		s.mu.Unlock()
		s.handleNotFound(w, r)
		return
	}
	if t := s.voice.trunks[n.trunk]; t != nil {
		t.PhoneNumbers = slices.DeleteFunc(t.PhoneNumbers, func(p string) bool { return p == sid })
	}
	delete(s.numbers, sid)
	if s.byPhone[n.phone] == n {
		delete(s.byPhone, n.phone)
	}
	s.voice.released = append(s.voice.released, Purchase{Sid: sid, AccountSid: acct.sid, PhoneNumber: n.phone, At: s.now()})
	s.changes.Notify()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// handleDeleteCredList is DELETE SIP/CredentialLists/{CL}.json: the list and its
// credentials go, and no trunk keeps it.
func (s *Server) handleDeleteCredList(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpDeleteCredList)
	if acct == nil {
		return
	}
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	cl := s.voice.credLists[sid]
	if !ok || cl == nil || cl.AccountSid != acct.sid {
		s.mu.Unlock()
		s.handleNotFound(w, r)
		return
	}
	delete(s.voice.credLists, sid)
	for _, t := range s.voice.trunks {
		t.CredentialLists = slices.DeleteFunc(t.CredentialLists, func(c string) bool { return c == sid })
	}
	s.changes.Notify()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// detach removes one sid from a list of the account's trunk named in the path: 204, or 404
// when the trunk or the sid on it is unknown.
func (s *Server) detach(w http.ResponseWriter, r *http.Request, op Op, list func(*Trunk) *[]string, sid string) {
	acct := s.begin(w, r, op)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil {
		return
	}
	s.mu.Lock()
	l := list(t)
	if !slices.Contains(*l, sid) {
		s.mu.Unlock()
		s.handleNotFound(w, r)
		return
	}
	*l = slices.DeleteFunc(*l, func(x string) bool { return x == sid })
	s.changes.Notify()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDetachNumber(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("PN")
	s.detach(w, r, OpDetachPhoneNumber, func(t *Trunk) *[]string { return &t.PhoneNumbers }, sid)
	s.mu.Lock()
	if n := s.numbers[sid]; n != nil && n.trunk == r.PathValue("TK") && s.voice.trunks[n.trunk] != nil &&
		!slices.Contains(s.voice.trunks[n.trunk].PhoneNumbers, sid) {
		n.trunk = ""
	}
	s.mu.Unlock()
}

func (s *Server) handleDetachCredList(w http.ResponseWriter, r *http.Request) {
	s.detach(w, r, OpDetachCredList, func(t *Trunk) *[]string { return &t.CredentialLists }, r.PathValue("CL"))
}

func (s *Server) handleDeleteOrigination(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpDeleteOrigination)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil {
		return
	}
	sid := r.PathValue("OU")
	s.mu.Lock()
	i := slices.IndexFunc(t.OriginationURLs, func(o OriginationURL) bool { return o.Sid == sid })
	if i < 0 {
		s.mu.Unlock()
		s.handleNotFound(w, r)
		return
	}
	t.OriginationURLs = slices.Delete(t.OriginationURLs, i, i+1)
	s.changes.Notify()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
