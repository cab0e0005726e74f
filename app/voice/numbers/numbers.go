// Package numbers sets up the phone numbers an org's Retell agents call from and answer:
// search Twilio, buy a number and wire it to Retell through an Elastic SIP trunk in one go,
// step by step (see Steps), each step recorded on the voice_numbers row so that a failure
// shows where and why, and Continue resumes there without buying twice. A number already in
// Retell can be linked instead. Everything here is for those who manage the org.
package numbers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
	"masteria/app/voice/retell"
	"masteria/app/voice/twilio"
)

// RetellSIPURL is where a trunk sends the calls its numbers receive: Retell's SIP server,
// over TCP as Retell recommends.
const RetellSIPURL = "sip:sip.retellai.com;transport=tcp"

// StuckAfter is how long a set-up may stay in progress before Continue may take it over
// (its process died); the claim query (voice-number-claim) uses the same 10 minutes.
const StuckAfter = 10 * time.Minute

// Stuck reports whether n's set-up or release is in progress but untouched for StuckAfter.
func Stuck(n model.VoiceNumber, now time.Time) bool {
	return (n.Status == "in_progress" || n.Status == "releasing") && now.Sub(n.UpdatedAt) > StuckAfter
}

// SearchLimit is how many numbers a search shows.
const SearchLimit = 20

// Steps are the set-up steps in order; a row's step is the one it runs next (or failed at),
// ready once all are done.
var Steps = []string{model.NumberBought, model.NumberTrunk, model.NumberOrigination, model.NumberCredentials,
	model.NumberAttached, model.NumberImported, model.NumberReady}

// Retell is what the set-up needs of the org's Retell account (*retell.Client).
type Retell interface {
	ListAgents(ctx context.Context) ([]retell.Agent, error)
	ImportPhoneNumber(ctx context.Context, in retell.ImportPhoneNumber) (retell.PhoneNumber, error)
	ListPhoneNumbers(ctx context.Context) ([]retell.PhoneNumber, error)
	SetPhoneNumberAgents(ctx context.Context, phone string, inbound, outbound []retell.AgentWeight) (retell.PhoneNumber, error)
	DeletePhoneNumber(ctx context.Context, phone string) error
}

// Config wires the service.
type Config struct {
	// TwilioAPIURL and TwilioTrunkingURL are the server settings TWILIO_API_URL and
	// TWILIO_TRUNKING_URL.
	TwilioAPIURL, TwilioTrunkingURL string
	// ChannelSecrets opens a channel's sealed secrets (inbox.Service.Secrets): a Twilio SMS
	// channel's auth_token is the account the numbers are bought with.
	ChannelSecrets func(model.Channel) (map[string]string, error)
	// Retell returns a client of the org's Retell account; model.ErrNotFound when it has none.
	Retell func(ctx context.Context, orgID int64) (Retell, error)
	// HTTP is the client of Twilio's APIs; nil uses twilio's default.
	HTTP *http.Client
	Log  *slog.Logger
}

// Service runs the numbers wizard.
type Service struct {
	st   *store.Store
	ring *vault.Ring
	cfg  Config
}

// New returns the service.
func New(st *store.Store, ring *vault.Ring, cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{st: st, ring: ring, cfg: cfg}
}

var (
	e164        = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	country     = regexp.MustCompile(`^[A-Z]{2}$`)
	areaCode    = regexp.MustCompile(`^[0-9]{2,3}$`)
	agentID     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	maxNickname = 64
)

func admin(a model.Actor) error {
	if !a.Role.May(model.ManageOrg) {
		return model.ErrForbidden
	}
	return nil
}

// TwilioAccounts lists the org's Twilio SMS channels, whose accounts numbers can be bought with.
func (s *Service) TwilioAccounts(ctx context.Context, a model.Actor) ([]model.Channel, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	all, err := s.st.Channels(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c model.Channel) bool { return c.Kind != model.KindTwilioSMS }), nil
}

// twilioFor returns a client of the Twilio account of one of the org's Twilio SMS channels.
func (s *Service) twilioFor(ctx context.Context, orgID, channelID int64) (*twilio.Client, error) {
	ch, err := s.st.Channel(ctx, orgID, channelID)
	if err != nil {
		return nil, err
	}
	if ch.Kind != model.KindTwilioSMS {
		return nil, model.ErrNotFound
	}
	var cfg struct {
		AccountSID string `json:"account_sid"`
	}
	if err := json.Unmarshal(ch.Config, &cfg); err != nil || cfg.AccountSID == "" {
		return nil, fmt.Errorf("numbers: channel %d has no Twilio account SID", ch.ID)
	}
	secrets, err := s.cfg.ChannelSecrets(ch)
	if err != nil {
		return nil, err
	}
	return twilio.New(s.cfg.TwilioAPIURL, s.cfg.TwilioTrunkingURL, cfg.AccountSID, secrets["auth_token"], s.cfg.HTTP), nil
}

// SearchInput is a search for numbers to buy.
type SearchInput struct {
	ChannelID int64  // the Twilio SMS channel whose account buys
	Country   string // ISO alpha-2, e.g. US, BR
	AreaCode  string // optional, 2 or 3 digits
}

func (in *SearchInput) validate() error {
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	in.AreaCode = strings.TrimSpace(in.AreaCode)
	v := model.NewValidationError()
	if in.ChannelID <= 0 {
		v.Add("channel_id", "voice.numbers.err.account")
	}
	if !country.MatchString(in.Country) {
		v.Add("country", "voice.numbers.err.country")
	}
	if in.AreaCode != "" && !areaCode.MatchString(in.AreaCode) {
		v.Add("area_code", "voice.numbers.err.area_code")
	}
	return v.Err()
}

// Search lists numbers Twilio offers in a country (and area code).
func (s *Service) Search(ctx context.Context, a model.Actor, in SearchInput) ([]twilio.AvailableNumber, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	tw, err := s.twilioFor(ctx, a.OrgID, in.ChannelID)
	if err != nil {
		return nil, err
	}
	list, err := tw.SearchLocal(ctx, in.Country, in.AreaCode, SearchLimit)
	if err != nil {
		return nil, &StepError{Step: "search", Reason: plain(err)}
	}
	return list, nil
}

// BuyInput is a number to buy and set up.
type BuyInput struct {
	ChannelID       int64
	PhoneNumber     string // E.164, from a search
	Country         string
	InboundAgentID  string // optional
	OutboundAgentID string // optional
	Nickname        string
}

func validAgent(id string) bool { return id == "" || agentID.MatchString(id) }

func (in *BuyInput) validate() error {
	in.PhoneNumber = strings.TrimSpace(in.PhoneNumber)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	in.Nickname = strings.TrimSpace(in.Nickname)
	in.InboundAgentID, in.OutboundAgentID = strings.TrimSpace(in.InboundAgentID), strings.TrimSpace(in.OutboundAgentID)
	v := model.NewValidationError()
	if in.ChannelID <= 0 {
		v.Add("channel_id", "voice.numbers.err.account")
	}
	if !e164.MatchString(in.PhoneNumber) {
		v.Add("phone_number", "voice.numbers.err.phone")
	}
	if in.Country != "" && !country.MatchString(in.Country) {
		v.Add("country", "voice.numbers.err.country")
	}
	if !validAgent(in.InboundAgentID) {
		v.Add("inbound_agent_id", "voice.numbers.err.agent")
	}
	if !validAgent(in.OutboundAgentID) {
		v.Add("outbound_agent_id", "voice.numbers.err.agent")
	}
	if !utf8.ValidString(in.Nickname) || strings.ContainsRune(in.Nickname, 0) || utf8.RuneCountInString(in.Nickname) > maxNickname {
		v.Add("nickname", "voice.numbers.err.nickname")
	}
	return v.Err()
}

// Buy stores the number and runs its set-up to the end or to the first failure, which is
// recorded on the row (and answered as a *StepError). The row is returned in both cases.
func (s *Service) Buy(ctx context.Context, a model.Actor, in BuyInput) (model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return model.VoiceNumber{}, err
	}
	if err := in.validate(); err != nil {
		return model.VoiceNumber{}, err
	}
	if _, err := s.twilioFor(ctx, a.OrgID, in.ChannelID); err != nil {
		return model.VoiceNumber{}, err
	}
	ch := in.ChannelID
	n, err := s.st.CreateVoiceNumber(ctx, a.OrgID, model.VoiceNumber{PhoneNumber: in.PhoneNumber, Source: "twilio",
		Country: in.Country, Step: model.NumberBought, Status: "in_progress", InboundAgentID: in.InboundAgentID,
		OutboundAgentID: in.OutboundAgentID, Nickname: in.Nickname, TwilioChannelID: &ch})
	if err != nil {
		return n, err
	}
	return s.run(ctx, n)
}

// Continue resumes a failed set-up from the step it failed at, or a failed release from
// the release step it failed at (see Release). A number that is ready is answered as it
// is; one whose set-up or release is running elsewhere is model.ErrConflict.
func (s *Service) Continue(ctx context.Context, a model.Actor, id int64) (model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return model.VoiceNumber{}, err
	}
	n, err := s.st.VoiceNumber(ctx, a.OrgID, id)
	if err != nil {
		return n, err
	}
	if Releasing(n) {
		return s.claimRelease(ctx, n, n.ReleaseFromRetell)
	}
	if n.Status == "ready" {
		return n, nil
	}
	ok, err := s.st.ClaimVoiceNumber(ctx, a.OrgID, id)
	if err != nil {
		return n, err
	}
	if !ok {
		return n, model.ErrConflict
	}
	if n, err = s.st.VoiceNumber(ctx, a.OrgID, id); err != nil {
		return n, err
	}
	return s.run(ctx, n)
}

// ErrNotInRetell is a number to link that the org's Retell account does not have.
var ErrNotInRetell = fmt.Errorf("numbers: the number is not in the Retell account: %w", model.ErrNotFound)

// ErrNoRetell is an org without a Retell account, at the step that needs one.
var ErrNoRetell = fmt.Errorf("numbers: Retell is not connected: %w", model.ErrNotFound)

// StepError is a set-up step that failed, with the reason in plain words.
type StepError struct {
	Step   string
	Reason string
}

func (e *StepError) Error() string { return "numbers: step " + e.Step + ": " + e.Reason }

// plain turns a provider's error into words for the page.
func plain(err error) string {
	var te *twilio.Error
	var re *retell.Error
	switch {
	case errors.As(err, &te) && te.Status == 0:
		return "Twilio could not be reached: " + te.Message
	case errors.As(err, &te) && te.Status == http.StatusUnauthorized:
		return "Twilio refused the account SID or auth token of this channel (code 20003)."
	case errors.As(err, &te):
		msg := strings.TrimSuffix(te.Message, ".")
		if te.Code != 0 {
			return fmt.Sprintf("Twilio refused: %s (code %d).", msg, te.Code)
		}
		return fmt.Sprintf("Twilio refused: %s (HTTP %d).", msg, te.Status)
	case errors.As(err, &re) && re.Status == 0:
		return re.Error() + "." // could not be reached, or did not answer in time
	case errors.As(err, &re) && re.Status == http.StatusUnauthorized:
		return "Retell refused the API key of this org (HTTP 401)."
	case errors.As(err, &re):
		return fmt.Sprintf("Retell refused: %s (HTTP %d).", strings.TrimSuffix(re.Message, "."), re.Status)
	case errors.Is(err, ErrNoRetell):
		return "Retell is not connected yet: connect it in the Retell tab, then continue."
	case errors.Is(err, model.ErrNotFound):
		return "The Twilio channel this number was bought with is gone: it cannot continue."
	}
	return err.Error()
}

// run does the steps from n's, saving n after each one; the first failure is recorded and
// returned. Each step first looks for what an earlier try may have done without recording
// it (an answer lost), so nothing is bought or created twice.
func (s *Service) run(ctx context.Context, n model.VoiceNumber) (model.VoiceNumber, error) {
	fail := func(err error) (model.VoiceNumber, error) {
		reason := plain(err)
		n.Status, n.LastError = "failed", reason
		// The row must say it failed even when the request that ran it was cancelled.
		if ferr := s.st.FailVoiceNumber(context.WithoutCancel(ctx), n.OrgID, n.ID, reason); ferr != nil {
			return n, errors.Join(err, ferr)
		}
		s.cfg.Log.Info("numbers: step failed", "org", n.OrgID, "number", n.ID, "step", n.Step, "err", err)
		return n, &StepError{Step: n.Step, Reason: reason}
	}
	if n.TwilioChannelID == nil {
		return fail(model.ErrNotFound)
	}
	tw, err := s.twilioFor(ctx, n.OrgID, *n.TwilioChannelID)
	if err != nil {
		return fail(err)
	}
	for n.Step != model.NumberReady {
		next, err := s.step(ctx, tw, &n)
		if err != nil {
			return fail(err)
		}
		n.Step = next
		if next == model.NumberReady {
			n.Status = "ready"
		}
		if err := s.st.SaveVoiceNumberProgress(context.WithoutCancel(ctx), n.OrgID, n); err != nil {
			return n, err
		}
	}
	return n, nil
}

// PasswordAD is what a number's sealed SIP password is bound to.
func PasswordAD(n model.VoiceNumber) string { return fmt.Sprintf("voice_number:%d:sip_password", n.ID) }

// step runs n's current step, filling in what it learns, and returns the next step.
func (s *Service) step(ctx context.Context, tw *twilio.Client, n *model.VoiceNumber) (string, error) {
	switch n.Step {
	case model.NumberBought:
		if n.TwilioNumberSID == "" {
			got, owned, err := tw.IncomingNumberByPhone(ctx, n.PhoneNumber)
			if err != nil {
				return "", err
			}
			if !owned {
				if got, err = tw.BuyNumber(ctx, n.PhoneNumber, friendlyName(*n)); err != nil {
					return "", err
				}
			}
			n.TwilioNumberSID = got.Sid
		}
		return model.NumberTrunk, nil

	case model.NumberTrunk:
		if n.TerminationURI == "" {
			// Trunk domains are unique across Twilio: a random part avoids other installs'.
			n.TerminationURI = fmt.Sprintf("masteria-%d-%s.pstn.twilio.com", n.ID, randomHex(4))
			if err := s.st.SaveVoiceNumberProgress(ctx, n.OrgID, *n); err != nil {
				return "", err
			}
		}
		if n.TrunkSID == "" {
			t, found, err := tw.TrunkByDomain(ctx, n.TerminationURI)
			if err != nil {
				return "", err
			}
			if !found {
				if t, err = tw.CreateTrunk(ctx, friendlyName(*n), n.TerminationURI); err != nil {
					return "", err
				}
			}
			n.TrunkSID = t.Sid
		}
		return model.NumberOrigination, nil

	case model.NumberOrigination:
		if n.OriginationURLSID == "" {
			urls, err := tw.OriginationURLs(ctx, n.TrunkSID)
			if err != nil {
				return "", err
			}
			for _, u := range urls {
				if u.SipURL == RetellSIPURL {
					n.OriginationURLSID = u.Sid
				}
			}
			if n.OriginationURLSID == "" {
				u, err := tw.CreateOriginationURL(ctx, n.TrunkSID, twilio.OriginationURL{FriendlyName: "Retell",
					SipURL: RetellSIPURL, Weight: 1, Priority: 1, Enabled: true})
				if err != nil {
					return "", err
				}
				n.OriginationURLSID = u.Sid
			}
		}
		return model.NumberCredentials, nil

	case model.NumberCredentials:
		if n.CredentialListSID == "" {
			sid, err := tw.CreateCredentialList(ctx, friendlyName(*n))
			if err != nil {
				return "", err
			}
			n.CredentialListSID = sid
			if err := s.st.SaveVoiceNumberProgress(ctx, n.OrgID, *n); err != nil {
				return "", err
			}
		}
		if n.SIPUsername == "" {
			// A fresh username each try: a credential whose answer was lost stays unused.
			user, pass := "masteria-"+randomHex(6), password()
			if _, err := tw.CreateCredential(ctx, n.CredentialListSID, user, pass); err != nil {
				return "", err
			}
			sealed, err := s.ring.SealString(pass, PasswordAD(*n))
			if err != nil {
				return "", err
			}
			n.SIPUsername, n.SIPPasswordSealed = user, sealed
			if err := s.st.SaveVoiceNumberProgress(ctx, n.OrgID, *n); err != nil {
				return "", err
			}
		}
		attached, err := tw.TrunkHasCredentialList(ctx, n.TrunkSID, n.CredentialListSID)
		if err == nil && !attached {
			err = tw.AttachCredentialList(ctx, n.TrunkSID, n.CredentialListSID)
		}
		if err != nil {
			return "", err
		}
		return model.NumberAttached, nil

	case model.NumberAttached:
		on, err := tw.TrunkHasPhoneNumber(ctx, n.TrunkSID, n.TwilioNumberSID)
		if err == nil && !on {
			err = tw.AttachPhoneNumber(ctx, n.TrunkSID, n.TwilioNumberSID)
		}
		if err != nil {
			return "", err
		}
		return model.NumberImported, nil

	case model.NumberImported:
		rt, err := s.cfg.Retell(ctx, n.OrgID)
		if errors.Is(err, model.ErrNotFound) {
			return "", ErrNoRetell
		}
		if err != nil {
			return "", err
		}
		pass, err := s.ring.OpenString(n.SIPPasswordSealed, PasswordAD(*n))
		if err != nil {
			return "", err
		}
		_, err = rt.ImportPhoneNumber(ctx, retell.ImportPhoneNumber{PhoneNumber: n.PhoneNumber, TerminationURI: n.TerminationURI,
			SIPTrunkAuthUsername: n.SIPUsername, SIPTrunkAuthPassword: pass, Transport: "TCP", Nickname: n.Nickname,
			InboundAgents: weights(n.InboundAgentID), OutboundAgents: weights(n.OutboundAgentID)})
		if err != nil {
			// An import whose answer was lost: the number is there already.
			if have, lerr := rt.ListPhoneNumbers(ctx); lerr == nil && slices.ContainsFunc(have, func(p retell.PhoneNumber) bool {
				return p.PhoneNumber == n.PhoneNumber
			}) {
				return model.NumberReady, nil
			}
			return "", err
		}
		return model.NumberReady, nil
	}
	return "", fmt.Errorf("numbers: unknown step %q", n.Step)
}

func weights(agent string) []retell.AgentWeight {
	if agent == "" {
		return nil
	}
	return []retell.AgentWeight{{AgentID: agent, Weight: 1}}
}

func friendlyName(n model.VoiceNumber) string {
	return fmt.Sprintf("Master IA %s", n.PhoneNumber)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// password is a SIP password Twilio accepts: 24 characters with a digit, an upper- and a
// lower-case letter.
func password() string {
	return "Mx9" + randomHex(10) + "q"
}

// Agents lists the org's Retell agents, for the selects.
func (s *Service) Agents(ctx context.Context, a model.Actor) ([]retell.Agent, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	rt, err := s.cfg.Retell(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	return rt.ListAgents(ctx)
}

// Numbers lists the org's voice numbers.
func (s *Service) Numbers(ctx context.Context, a model.Actor) ([]model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	return s.st.VoiceNumbers(ctx, a.OrgID)
}

// NumbersPage returns up to limit of the org's voice numbers, newest first, older than
// beforeID when it is not 0.
func (s *Service) NumbersPage(ctx context.Context, a model.Actor, beforeID int64, limit int) ([]model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	return s.st.VoiceNumbersPage(ctx, a.OrgID, beforeID, limit)
}

// Number reads one of the org's voice numbers.
func (s *Service) Number(ctx context.Context, a model.Actor, id int64) (model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return model.VoiceNumber{}, err
	}
	return s.st.VoiceNumber(ctx, a.OrgID, id)
}

// Linkable lists the numbers of the org's Retell account it has not added yet.
func (s *Service) Linkable(ctx context.Context, a model.Actor) ([]retell.PhoneNumber, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	rt, err := s.cfg.Retell(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	have, err := s.st.VoiceNumbers(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	list, err := rt.ListPhoneNumbers(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(p retell.PhoneNumber) bool {
		return slices.ContainsFunc(have, func(n model.VoiceNumber) bool { return n.PhoneNumber == p.PhoneNumber })
	}), nil
}

func firstAgent(ws []retell.AgentWeight) string {
	if len(ws) == 0 {
		return ""
	}
	return ws[0].AgentID
}

// Link adds a number that is already in the org's Retell account, as it is there.
func (s *Service) Link(ctx context.Context, a model.Actor, phone string) (model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return model.VoiceNumber{}, err
	}
	phone = strings.TrimSpace(phone)
	if !e164.MatchString(phone) {
		v := model.NewValidationError()
		v.Add("phone_number", "voice.numbers.err.phone")
		return model.VoiceNumber{}, v.Err()
	}
	rt, err := s.cfg.Retell(ctx, a.OrgID)
	if err != nil {
		return model.VoiceNumber{}, err
	}
	list, err := rt.ListPhoneNumbers(ctx)
	if err != nil {
		return model.VoiceNumber{}, &StepError{Step: "link", Reason: plain(err)}
	}
	i := slices.IndexFunc(list, func(p retell.PhoneNumber) bool { return p.PhoneNumber == phone })
	if i < 0 {
		return model.VoiceNumber{}, ErrNotInRetell
	}
	p := list[i]
	return s.st.CreateVoiceNumber(ctx, a.OrgID, model.VoiceNumber{PhoneNumber: phone, Source: "linked",
		Step: model.NumberReady, Status: "ready", InboundAgentID: firstAgent(p.InboundAgents),
		OutboundAgentID: firstAgent(p.OutboundAgents), Nickname: clip(p.Nickname, maxNickname)})
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// SetAgents changes the agents of a number that is in Retell (ready), there and here.
func (s *Service) SetAgents(ctx context.Context, a model.Actor, id int64, inbound, outbound string) (model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return model.VoiceNumber{}, err
	}
	inbound, outbound = strings.TrimSpace(inbound), strings.TrimSpace(outbound)
	v := model.NewValidationError()
	if !validAgent(inbound) {
		v.Add("inbound_agent_id", "voice.numbers.err.agent")
	}
	if !validAgent(outbound) {
		v.Add("outbound_agent_id", "voice.numbers.err.agent")
	}
	if err := v.Err(); err != nil {
		return model.VoiceNumber{}, err
	}
	n, err := s.st.VoiceNumber(ctx, a.OrgID, id)
	if err != nil {
		return n, err
	}
	if Releasing(n) {
		return n, model.ErrConflict
	}
	if n.Status != "ready" {
		// Not in Retell yet: the import will take the agents.
		if err := s.st.SetVoiceNumberAgents(ctx, a.OrgID, id, inbound, outbound); err != nil {
			return n, err
		}
		n.InboundAgentID, n.OutboundAgentID = inbound, outbound
		return n, nil
	}
	rt, err := s.cfg.Retell(ctx, a.OrgID)
	if err != nil {
		return n, err
	}
	if _, err := rt.SetPhoneNumberAgents(ctx, n.PhoneNumber, weights(inbound), weights(outbound)); err != nil {
		return n, &StepError{Step: "agents", Reason: plain(err)}
	}
	if err := s.st.SetVoiceNumberAgents(ctx, a.OrgID, id, inbound, outbound); err != nil {
		return n, err
	}
	n.InboundAgentID, n.OutboundAgentID = inbound, outbound
	return n, nil
}
