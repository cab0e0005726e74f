package twiliosim

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Op names one voice set-up operation, for FailNext.
type Op string

// The operations FailNext can make fail.
const (
	OpSearchNumbers     Op = "search-numbers"         // GET  …/AvailablePhoneNumbers/{CC}/Local.json
	OpBuyNumber         Op = "buy-number"             // POST …/IncomingPhoneNumbers.json
	OpCreateTrunk       Op = "create-trunk"           // POST /v1/Trunks
	OpCreateOrigination Op = "create-origination"     // POST /v1/Trunks/{TK}/OriginationUrls
	OpCreateCredList    Op = "create-credential-list" // POST …/SIP/CredentialLists.json
	OpCreateCredential  Op = "create-credential"      // POST …/SIP/CredentialLists/{CL}/Credentials.json
	OpAttachCredList    Op = "attach-credential-list" // POST /v1/Trunks/{TK}/CredentialLists
	OpAttachPhoneNumber Op = "attach-phone-number"    // POST /v1/Trunks/{TK}/PhoneNumbers

	// Releasing a number (release.go).
	OpReleaseNumber     Op = "release-number"         // DELETE …/IncomingPhoneNumbers/{PN}.json
	OpDetachPhoneNumber Op = "detach-phone-number"    // DELETE /v1/Trunks/{TK}/PhoneNumbers/{PN}
	OpDetachCredList    Op = "detach-credential-list" // DELETE /v1/Trunks/{TK}/CredentialLists/{CL}
	OpDeleteCredList    Op = "delete-credential-list" // DELETE …/SIP/CredentialLists/{CL}.json
	OpDeleteOrigination Op = "delete-origination"     // DELETE /v1/Trunks/{TK}/OriginationUrls/{OU}
	OpDeleteTrunk       Op = "delete-trunk"           // DELETE /v1/Trunks/{TK}

	// Reads, for Throttle.
	OpFindNumber         Op = "find-number"           // GET …/IncomingPhoneNumbers.json
	OpListTrunks         Op = "list-trunks"           // GET /v1/Trunks
	OpListOriginations   Op = "list-originations"     // GET /v1/Trunks/{TK}/OriginationUrls
	OpFetchTrunkCredList Op = "fetch-trunk-cred-list" // GET /v1/Trunks/{TK}/CredentialLists/{CL}
	OpFetchTrunkNumber   Op = "fetch-trunk-number"    // GET /v1/Trunks/{TK}/PhoneNumbers/{PN}
)

// callingCodes are the countries whose local numbers the sim offers, by ISO alpha-2 code.
var callingCodes = map[string]string{"US": "1", "CA": "1", "BR": "55", "GB": "44", "PT": "351", "MX": "52"}

// Trunk is an Elastic SIP trunk as the sim holds it.
type Trunk struct {
	Sid             string
	AccountSid      string
	DomainName      string
	FriendlyName    string
	OriginationURLs []OriginationURL
	CredentialLists []string // CL SIDs attached for termination
	PhoneNumbers    []string // PN SIDs attached
	DateCreated     time.Time
}

// OriginationURL is where a trunk sends inbound calls.
type OriginationURL struct {
	Sid, FriendlyName, SipURL string
	Weight, Priority          int
	Enabled                   bool
}

// CredentialList is a SIP credential list with its credentials (passwords kept, for tests).
type CredentialList struct {
	Sid, AccountSid, FriendlyName string
	Credentials                   []Credential
	DateCreated                   time.Time
}

// Credential is one username and password of a credential list.
type Credential struct{ Sid, Username, Password string }

// Purchase is a number bought through IncomingPhoneNumbers.
type Purchase struct {
	Sid, AccountSid, PhoneNumber, TrunkSid string
	At                                     time.Time
}

type voiceState struct {
	failOps   map[Op][]apiError
	trunks    map[string]*Trunk
	trunkList []string // SIDs in creation order
	credLists map[string]*CredentialList
	purchases []Purchase
	reserved  map[string]bool // numbers offered elsewhere: buying them answers 21422
	released  []Purchase      // numbers given back, oldest first
}

// FailNext makes the next call of op fail, after authentication, with this Twilio error code,
// message and HTTP status; nothing is changed by the failed call. Failures queue up per op.
func (s *Server) FailNext(op Op, status, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.voice.failOps == nil {
		s.voice.failOps = map[Op][]apiError{}
	}
	s.voice.failOps[op] = append(s.voice.failOps[op], newAPIError(status, code, message))
}

// Reserve makes a number unavailable: searches skip it and buying it answers 21422.
func (s *Server) Reserve(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.voice.reserved == nil {
		s.voice.reserved = map[string]bool{}
	}
	s.voice.reserved[phone] = true
}

// Purchases returns the numbers bought through the REST API, oldest first.
func (s *Server) Purchases() []Purchase {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.voice.purchases)
	for i := range out {
		if n := s.numbers[out[i].Sid]; n != nil {
			out[i].TrunkSid = n.trunk
		}
	}
	return out
}

// Trunks returns the SIP trunks, oldest first, as copies.
func (s *Server) Trunks() []Trunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Trunk, 0, len(s.voice.trunkList))
	for _, sid := range s.voice.trunkList {
		t := *s.voice.trunks[sid]
		t.OriginationURLs = slices.Clone(t.OriginationURLs)
		t.CredentialLists = slices.Clone(t.CredentialLists)
		t.PhoneNumbers = slices.Clone(t.PhoneNumbers)
		out = append(out, t)
	}
	return out
}

// CredentialLists returns the SIP credential lists, as copies.
func (s *Server) CredentialLists() []CredentialList {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CredentialList, 0, len(s.voice.credLists))
	for _, cl := range s.voice.credLists {
		c := *cl
		c.Credentials = slices.Clone(cl.Credentials)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b CredentialList) int { return a.DateCreated.Compare(b.DateCreated) })
	return out
}

func (s *Server) voiceRoutes(mux *http.ServeMux) {
	const acct = "/2010-04-01/Accounts/{AccountSid}"
	mux.HandleFunc("GET "+acct+"/AvailablePhoneNumbers/{CC}/Local.json", s.handleAvailable)
	mux.HandleFunc("POST "+acct+"/IncomingPhoneNumbers.json", s.handleBuy)
	mux.HandleFunc("POST "+acct+"/SIP/CredentialLists.json", s.handleCreateCredList)
	mux.HandleFunc("POST "+acct+"/SIP/CredentialLists/{CL}/Credentials.json", s.handleCreateCredential)
	mux.HandleFunc("POST /v1/Trunks", s.handleCreateTrunk)
	mux.HandleFunc("GET /v1/Trunks", s.handleListTrunks)
	mux.HandleFunc("GET /v1/Trunks/{TK}", s.handleFetchTrunk)
	mux.HandleFunc("DELETE /v1/Trunks/{TK}", s.handleDeleteTrunk)
	mux.HandleFunc("POST /v1/Trunks/{TK}/OriginationUrls", s.handleCreateOrigination)
	mux.HandleFunc("GET /v1/Trunks/{TK}/OriginationUrls", s.handleListOriginations)
	mux.HandleFunc("POST /v1/Trunks/{TK}/CredentialLists", s.handleAttachCredList)
	mux.HandleFunc("GET /v1/Trunks/{TK}/CredentialLists/{CL}", s.handleFetchTrunkCredList)
	mux.HandleFunc("POST /v1/Trunks/{TK}/PhoneNumbers", s.handleAttachNumber)
	mux.HandleFunc("GET /v1/Trunks/{TK}/PhoneNumbers/{PN}", s.handleFetchTrunkNumber)
	s.releaseRoutes(mux)
}

// authTrunking checks HTTP Basic credentials on trunking paths, which name no account: the
// user is the account SID (with its token) or an API key SID (with its secret).
func (s *Server) authTrunking(w http.ResponseWriter, r *http.Request) (*account, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		writeError(w, newAPIError(http.StatusUnauthorized, 20003, "Authentication Error - No credentials provided"))
		return nil, false
	}
	s.mu.Lock()
	acct := s.accounts[user]
	valid := acct != nil && hmac.Equal([]byte(pass), []byte(acct.token))
	if key, isKey := s.keys[user]; !valid && isKey {
		acct = s.accounts[key.account]
		valid = acct != nil && hmac.Equal([]byte(pass), []byte(key.secret))
	}
	s.mu.Unlock()
	if !valid {
		writeError(w, newAPIError(http.StatusUnauthorized, 20003, "Authenticate"))
		return nil, false
	}
	return acct, true
}

// begin authenticates a voice call (2010 or trunking path), fails it when a test asked for it,
// and parses a POST form. It returns the account, or nil when it has answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, op Op) *account {
	var acct *account
	var ok bool
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		acct, ok = s.authTrunking(w, r)
	} else {
		acct, ok = s.authenticate(w, r)
	}
	if !ok {
		return nil
	}
	if s.failQueued(w, op) {
		return nil
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			writeError(w, newAPIError(http.StatusBadRequest, 20001, "Unable to parse request: "+err.Error()))
			return nil
		}
	}
	return acct
}

// failQueued answers the next failure FailNext or Throttle queued for op, if any.
func (s *Server) failQueued(w http.ResponseWriter, op Op) bool {
	if op == "" {
		return false
	}
	s.mu.Lock()
	q := s.voice.failOps[op]
	if len(q) > 0 {
		s.voice.failOps[op] = q[1:]
	}
	s.mu.Unlock()
	if len(q) > 0 {
		writeError(w, q[0])
		return true
	}
	return false
}

func badRequest(w http.ResponseWriter, code int, format string, args ...any) {
	writeError(w, newAPIError(http.StatusBadRequest, code, fmt.Sprintf(format, args...)))
}

// required answers 400 when a form field is missing, as Twilio does.
func required(w http.ResponseWriter, r *http.Request, names ...string) bool {
	for _, n := range names {
		if strings.TrimSpace(r.PostForm.Get(n)) == "" {
			badRequest(w, 20001, "Missing required parameter %s in the post body", n)
			return false
		}
	}
	return true
}

func tooLong(w http.ResponseWriter, r *http.Request, name string, max int) bool {
	if len([]rune(r.PostForm.Get(name))) > max {
		badRequest(w, 20001, "%s must be at most %d characters", name, max)
		return true
	}
	return false
}

// iso8601 is the trunking API's date format.
func iso8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

var areaCode = regexp.MustCompile(`^[0-9]{2,3}$`)

// handleAvailable searches local numbers: the sim offers up to PageSize (default 20) numbers
// made from the country's calling code, the AreaCode (or a default one) and a running
// suffix, skipping numbers taken or reserved.
func (s *Server) handleAvailable(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpSearchNumbers)
	if acct == nil {
		return
	}
	cc := r.PathValue("CC")
	code, known := callingCodes[cc]
	if !known {
		writeError(w, newAPIError(http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found"))
		return
	}
	q := r.URL.Query()
	area := q.Get("AreaCode")
	if area == "" {
		area = map[string]string{"1": "415", "55": "11", "44": "20", "351": "21", "52": "55"}[code]
	} else if !areaCode.MatchString(area) {
		badRequest(w, 21452, "AreaCode %s is not valid", area)
		return
	}
	size := 20
	if n, err := strconv.Atoi(q.Get("PageSize")); err == nil && n > 0 && n <= 1000 {
		size = n
	}
	region := map[string]string{"US": "CA", "CA": "ON", "BR": "SP", "GB": "LND", "PT": "LI", "MX": "CMX"}[cc]
	list := []map[string]any{}
	s.mu.Lock()
	for i := 0; i < 10000 && len(list) < size; i++ {
		local := fmt.Sprintf("555%04d", 100+i)
		if code == "55" {
			local = fmt.Sprintf("3555%04d", 100+i)
		}
		phone := "+" + code + area + local
		if s.byPhone[phone] != nil || s.voice.reserved[phone] {
			continue
		}
		list = append(list, map[string]any{
			"friendly_name": friendly(code, area, local), "phone_number": phone, "lata": "722", "locality": "Simville",
			"rate_center": "SIMVILLE", "latitude": "37.780000", "longitude": "-122.410000", "region": region,
			"postal_code": "94103", "iso_country": cc, "address_requirements": "none", "beta": false,
			"capabilities": map[string]bool{"voice": true, "sms": true, "mms": true},
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"uri": r.URL.Path, "available_phone_numbers": list})
}

func friendly(code, area, local string) string {
	if code == "1" {
		return fmt.Sprintf("(%s) %s-%s", area, local[:3], local[3:])
	}
	return fmt.Sprintf("+%s %s %s-%s", code, area, local[:len(local)-4], local[len(local)-4:])
}

// renderNumber is the IncomingPhoneNumber resource (2010 API, RFC-2822 dates).
func (s *Server) renderNumber(n *number) map[string]any {
	var trunk any
	if n.trunk != "" {
		trunk = n.trunk
	}
	created := n.created
	if created.IsZero() {
		created = s.now()
	}
	uri := "/" + apiVersion + "/Accounts/" + n.account + "/IncomingPhoneNumbers/" + n.sid + ".json"
	return map[string]any{
		"sid": n.sid, "account_sid": n.account, "phone_number": n.phone, "friendly_name": n.friendlyName,
		"capabilities": map[string]bool{"voice": true, "sms": true, "mms": true, "fax": false},
		"trunk_sid":    trunk, "status": "in-use", "origin": "twilio", "address_requirements": "none", "beta": false,
		"sms_url": n.smsURL, "voice_url": "", "api_version": apiVersion,
		"date_created": rfc2822(created), "date_updated": rfc2822(created), "uri": uri,
		"subresource_uris": map[string]string{"assigned_add_ons": strings.TrimSuffix(uri, ".json") + "/AssignedAddOns.json"},
	}
}

// handleBuy buys a number: POST IncomingPhoneNumbers.json with PhoneNumber (or AreaCode,
// which buys the first available one), optional FriendlyName and TrunkSid.
func (s *Server) handleBuy(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpBuyNumber)
	if acct == nil {
		return
	}
	phone, area := strings.TrimSpace(r.PostForm.Get("PhoneNumber")), strings.TrimSpace(r.PostForm.Get("AreaCode"))
	switch {
	case phone == "" && area == "":
		badRequest(w, 21421, "PhoneNumber or AreaCode is required")
		return
	case phone == "" && !areaCode.MatchString(area):
		badRequest(w, 21421, "AreaCode %s is not valid", area)
		return
	case phone != "" && !e164.MatchString(phone):
		badRequest(w, 21421, "PhoneNumber is invalid")
		return
	case tooLong(w, r, "FriendlyName", 64):
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if phone == "" {
		for i := 0; i < 10000; i++ {
			p := fmt.Sprintf("+1%s555%04d", area, 100+i)
			if s.byPhone[p] == nil && !s.voice.reserved[p] {
				phone = p
				break
			}
		}
	}
	if s.byPhone[phone] != nil || s.voice.reserved[phone] {
		badRequest(w, 21422, "Phone number %s is not available", phone)
		return
	}
	trunk := r.PostForm.Get("TrunkSid")
	if trunk != "" {
		if t := s.voice.trunks[trunk]; t == nil || t.AccountSid != acct.sid {
			badRequest(w, 20001, "TrunkSid %s is not a trunk of this account", trunk)
			return
		}
	}
	name := r.PostForm.Get("FriendlyName")
	if name == "" {
		name = phone
	}
	n := &number{sid: NewSID("PN"), account: acct.sid, phone: phone, friendlyName: name, trunk: trunk, created: s.now()}
	s.numbers[n.sid] = n
	s.byPhone[phone] = n
	if trunk != "" {
		s.voice.trunks[trunk].PhoneNumbers = append(s.voice.trunks[trunk].PhoneNumbers, n.sid)
	}
	s.voice.purchases = append(s.voice.purchases, Purchase{Sid: n.sid, AccountSid: acct.sid, PhoneNumber: phone, At: n.created})
	s.changes.Notify()
	writeJSON(w, http.StatusCreated, s.renderNumber(n))
}

var domainName = regexp.MustCompile(`^[a-zA-Z0-9-]+\.pstn\.twilio\.com$`)

// renderTrunk is the Trunk resource (trunking v1, ISO-8601 dates). Callers hold s.mu.
func (s *Server) renderTrunk(t *Trunk) map[string]any {
	u := "https://trunking.twilio.com/v1/Trunks/" + t.Sid
	return map[string]any{
		"sid": t.Sid, "account_sid": t.AccountSid, "domain_name": t.DomainName, "friendly_name": t.FriendlyName,
		"disaster_recovery_url": nil, "disaster_recovery_method": nil, "secure": false, "cnam_lookup_enabled": false,
		"recording": map[string]string{"mode": "do-not-record", "trim": "do-not-trim"}, "transfer_mode": "disable-all",
		"transfer_caller_id": "from-transferee", "auth_type": authType(t), "auth_type_set": authTypeSet(t),
		"symmetric_rtp_enabled": false, "date_created": iso8601(t.DateCreated), "date_updated": iso8601(t.DateCreated), "url": u,
		"links": map[string]string{"origination_urls": u + "/OriginationUrls", "credential_lists": u + "/CredentialLists",
			"ip_access_control_lists": u + "/IpAccessControlLists", "phone_numbers": u + "/PhoneNumbers"},
	}
}

func authType(t *Trunk) string {
	if len(t.CredentialLists) > 0 {
		return "CREDENTIAL_LIST"
	}
	return ""
}

func authTypeSet(t *Trunk) []string {
	if len(t.CredentialLists) > 0 {
		return []string{"CREDENTIAL_LIST"}
	}
	return []string{}
}

// trunkOf returns the account's trunk named in the path, or answers 404.
func (s *Server) trunkOf(w http.ResponseWriter, r *http.Request, acct *account) *Trunk {
	s.mu.Lock()
	t := s.voice.trunks[r.PathValue("TK")]
	s.mu.Unlock()
	if t == nil || t.AccountSid != acct.sid {
		s.handleNotFound(w, r)
		return nil
	}
	return t
}

func (s *Server) handleCreateTrunk(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpCreateTrunk)
	if acct == nil {
		return
	}
	domain := strings.ToLower(strings.TrimSpace(r.PostForm.Get("DomainName")))
	if tooLong(w, r, "FriendlyName", 64) {
		return
	}
	if domain != "" && !domainName.MatchString(domain) {
		badRequest(w, 21245, "DomainName %s must contain only letters, digits and '-' and end with pstn.twilio.com", domain)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.voice.trunks {
		if domain != "" && t.DomainName == domain {
			badRequest(w, 21248, "DomainName %s is already in use", domain)
			return
		}
	}
	if s.voice.trunks == nil {
		s.voice.trunks = map[string]*Trunk{}
	}
	t := &Trunk{Sid: NewSID("TK"), AccountSid: acct.sid, DomainName: domain, FriendlyName: r.PostForm.Get("FriendlyName"), DateCreated: s.now()}
	s.voice.trunks[t.Sid] = t
	s.voice.trunkList = append(s.voice.trunkList, t.Sid)
	s.changes.Notify()
	writeJSON(w, http.StatusCreated, s.renderTrunk(t))
}

// listMeta is the trunking API's list envelope.
func listMeta(key, url string, n int) map[string]any {
	return map[string]any{"page": 0, "page_size": 50, "first_page_url": url + "?PageSize=50&Page=0", "previous_page_url": nil,
		"url": url + "?PageSize=50&Page=0", "next_page_url": nil, "key": key, "count": n}
}

func (s *Server) handleListTrunks(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpListTrunks)
	if acct == nil {
		return
	}
	s.mu.Lock()
	list := []map[string]any{}
	for _, sid := range s.voice.trunkList {
		if t := s.voice.trunks[sid]; t != nil && t.AccountSid == acct.sid {
			list = append(list, s.renderTrunk(t))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"trunks": list, "meta": listMeta("trunks", "https://trunking.twilio.com/v1/Trunks", len(list))})
}

func (s *Server) handleFetchTrunk(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, "")
	if acct == nil {
		return
	}
	if t := s.trunkOf(w, r, acct); t != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, s.renderTrunk(t))
	}
}

func (s *Server) handleDeleteTrunk(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpDeleteTrunk)
	if acct == nil {
		return
	}
	if t := s.trunkOf(w, r, acct); t != nil {
		s.mu.Lock()
		delete(s.voice.trunks, t.Sid)
		s.voice.trunkList = slices.DeleteFunc(s.voice.trunkList, func(sid string) bool { return sid == t.Sid })
		for _, pn := range t.PhoneNumbers {
			if n := s.numbers[pn]; n != nil {
				n.trunk = ""
			}
		}
		s.changes.Notify()
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func renderOrigination(t *Trunk, o OriginationURL) map[string]any {
	u := "https://trunking.twilio.com/v1/Trunks/" + t.Sid + "/OriginationUrls/" + o.Sid
	return map[string]any{"sid": o.Sid, "account_sid": t.AccountSid, "trunk_sid": t.Sid, "weight": o.Weight, "priority": o.Priority,
		"enabled": o.Enabled, "sip_url": o.SipURL, "friendly_name": o.FriendlyName,
		"date_created": iso8601(t.DateCreated), "date_updated": iso8601(t.DateCreated), "url": u}
}

func (s *Server) handleCreateOrigination(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpCreateOrigination)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil || !required(w, r, "Weight", "Priority", "Enabled", "FriendlyName", "SipUrl") || tooLong(w, r, "FriendlyName", 64) {
		return
	}
	f := r.PostForm
	weight, err1 := strconv.Atoi(f.Get("Weight"))
	prio, err2 := strconv.Atoi(f.Get("Priority"))
	enabled, ok := parseBool(f.Get("Enabled"))
	sip := strings.TrimSpace(f.Get("SipUrl"))
	switch {
	case err1 != nil || weight < 1 || weight > 65535:
		badRequest(w, 20001, "Weight must be between 1 and 65535")
		return
	case err2 != nil || prio < 0 || prio > 65535:
		badRequest(w, 20001, "Priority must be between 0 and 65535")
		return
	case !ok:
		badRequest(w, 20001, "Enabled must be true or false")
		return
	case !strings.HasPrefix(sip, "sip:") || strings.ContainsFunc(sip, unicode.IsSpace):
		badRequest(w, 20001, "SipUrl %s is not a SIP URI", sip)
		return
	}
	o := OriginationURL{Sid: NewSID("OU"), FriendlyName: f.Get("FriendlyName"), SipURL: sip, Weight: weight, Priority: prio, Enabled: enabled}
	s.mu.Lock()
	t.OriginationURLs = append(t.OriginationURLs, o)
	s.changes.Notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, renderOrigination(t, o))
}

func (s *Server) handleListOriginations(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpListOriginations)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil {
		return
	}
	s.mu.Lock()
	list := []map[string]any{}
	for _, o := range t.OriginationURLs {
		list = append(list, renderOrigination(t, o))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"origination_urls": list,
		"meta": listMeta("origination_urls", "https://trunking.twilio.com/v1/Trunks/"+t.Sid+"/OriginationUrls", len(list))})
}

func (s *Server) handleCreateCredList(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpCreateCredList)
	if acct == nil || !required(w, r, "FriendlyName") || tooLong(w, r, "FriendlyName", 64) {
		return
	}
	cl := &CredentialList{Sid: NewSID("CL"), AccountSid: acct.sid, FriendlyName: r.PostForm.Get("FriendlyName"), DateCreated: s.now()}
	s.mu.Lock()
	if s.voice.credLists == nil {
		s.voice.credLists = map[string]*CredentialList{}
	}
	s.voice.credLists[cl.Sid] = cl
	s.changes.Notify()
	s.mu.Unlock()
	uri := "/" + apiVersion + "/Accounts/" + acct.sid + "/SIP/CredentialLists/" + cl.Sid
	writeJSON(w, http.StatusCreated, map[string]any{"sid": cl.Sid, "account_sid": acct.sid, "friendly_name": cl.FriendlyName,
		"date_created": rfc2822(cl.DateCreated), "date_updated": rfc2822(cl.DateCreated),
		"subresource_uris": map[string]string{"credentials": uri + "/Credentials.json"}, "uri": uri + ".json"})
}

// strongPassword is Twilio's rule for SIP credentials: at least 12 characters, a digit, an
// upper- and a lower-case letter.
func strongPassword(p string) bool {
	return len(p) >= 12 && strings.ContainsFunc(p, unicode.IsDigit) && strings.ContainsFunc(p, unicode.IsUpper) &&
		strings.ContainsFunc(p, unicode.IsLower)
}

func (s *Server) handleCreateCredential(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpCreateCredential)
	if acct == nil {
		return
	}
	s.mu.Lock()
	cl := s.voice.credLists[r.PathValue("CL")]
	s.mu.Unlock()
	if cl == nil || cl.AccountSid != acct.sid {
		s.handleNotFound(w, r)
		return
	}
	if !required(w, r, "Username", "Password") {
		return
	}
	user, pass := r.PostForm.Get("Username"), r.PostForm.Get("Password")
	if !strongPassword(pass) {
		badRequest(w, 20001, "Password must be at least 12 characters long and contain a digit, an upper-case and a lower-case letter")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cl.Credentials {
		if c.Username == user {
			badRequest(w, 20001, "Username %s already exists in this credential list", user)
			return
		}
	}
	c := Credential{Sid: NewSID("CR"), Username: user, Password: pass}
	cl.Credentials = append(cl.Credentials, c)
	s.changes.Notify()
	now := rfc2822(s.now())
	writeJSON(w, http.StatusCreated, map[string]any{"sid": c.Sid, "account_sid": acct.sid, "credential_list_sid": cl.Sid, "username": user,
		"date_created": now, "date_updated": now,
		"uri": "/" + apiVersion + "/Accounts/" + acct.sid + "/SIP/CredentialLists/" + cl.Sid + "/Credentials/" + c.Sid + ".json"})
}

func (s *Server) handleAttachCredList(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpAttachCredList)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil || !required(w, r, "CredentialListSid") {
		return
	}
	sid := r.PostForm.Get("CredentialListSid")
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.voice.credLists[sid]
	switch {
	case cl == nil || cl.AccountSid != acct.sid:
		badRequest(w, 20001, "CredentialListSid %s is not a credential list of this account", sid)
		return
	case slices.Contains(t.CredentialLists, sid):
		badRequest(w, 20001, "Credential list %s is already associated with trunk %s", sid, t.Sid)
		return
	}
	t.CredentialLists = append(t.CredentialLists, sid)
	s.changes.Notify()
	writeJSON(w, http.StatusCreated, renderTrunkCredList(t, cl))
}

func renderTrunkCredList(t *Trunk, cl *CredentialList) map[string]any {
	return map[string]any{"sid": cl.Sid, "account_sid": t.AccountSid, "trunk_sid": t.Sid, "friendly_name": cl.FriendlyName,
		"date_created": iso8601(cl.DateCreated), "date_updated": iso8601(cl.DateCreated),
		"url": "https://trunking.twilio.com/v1/Trunks/" + t.Sid + "/CredentialLists/" + cl.Sid}
}

func (s *Server) handleFetchTrunkCredList(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpFetchTrunkCredList)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sid := r.PathValue("CL")
	if !slices.Contains(t.CredentialLists, sid) {
		s.handleNotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, renderTrunkCredList(t, s.voice.credLists[sid]))
}

func (s *Server) renderTrunkNumber(t *Trunk, n *number) map[string]any {
	m := s.renderNumber(n)
	m["trunk_sid"] = t.Sid
	m["url"] = "https://trunking.twilio.com/v1/Trunks/" + t.Sid + "/PhoneNumbers/" + n.sid
	m["links"] = map[string]string{"phone_number": "https://api.twilio.com" + m["uri"].(string)}
	return m
}

func (s *Server) handleAttachNumber(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpAttachPhoneNumber)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil || !required(w, r, "PhoneNumberSid") {
		return
	}
	sid := r.PostForm.Get("PhoneNumberSid")
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[sid]
	switch {
	case n == nil || n.account != acct.sid:
		badRequest(w, 20001, "PhoneNumberSid %s is not a number of this account", sid)
		return
	case n.trunk == t.Sid:
		badRequest(w, 20001, "Phone number %s is already associated with trunk %s", sid, t.Sid)
		return
	}
	if old := s.voice.trunks[n.trunk]; old != nil {
		old.PhoneNumbers = slices.DeleteFunc(old.PhoneNumbers, func(p string) bool { return p == sid })
	}
	n.trunk = t.Sid
	t.PhoneNumbers = append(t.PhoneNumbers, sid)
	s.changes.Notify()
	writeJSON(w, http.StatusCreated, s.renderTrunkNumber(t, n))
}

func (s *Server) handleFetchTrunkNumber(w http.ResponseWriter, r *http.Request) {
	acct := s.begin(w, r, OpFetchTrunkNumber)
	if acct == nil {
		return
	}
	t := s.trunkOf(w, r, acct)
	if t == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[r.PathValue("PN")]
	if n == nil || n.trunk != t.Sid {
		s.handleNotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, s.renderTrunkNumber(t, n))
}
