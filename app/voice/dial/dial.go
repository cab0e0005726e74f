// Package dial starts outbound calls: a contact is called by the org's Retell agent from
// one of its numbers, within the org's calling hours in the contact's own time zone and
// its limit of calls at once, with the contact's and lead's details as the agent's dynamic
// variables and metadata that ties the call's events back to them.
//
// A call is reserved as a row before Retell is asked, so the limit holds across requests
// and instances; Retell's call id replaces the reservation's once Retell answers. The
// call's events then arrive through app/voice/calls.
package dial

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"masteria/app/campaign/compose"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/app/store"
	"masteria/app/voice/calls"
	"masteria/app/voice/retell"
)

// ErrBusy is a call refused because the org has as many calls live as it allows, or Retell
// is at its own limit (429): try again when one ends.
var ErrBusy = errors.New("dial: too many calls at once")

// OutsideHours is a call refused outside calling hours in the contact's time zone.
type OutsideHours struct {
	Next time.Time // when the hours open again
	Zone string    // the contact's time zone
}

func (e *OutsideHours) Error() string {
	return fmt.Sprintf("dial: outside calling hours in %s until %s", e.Zone, e.Next.Format(time.RFC3339))
}

// Clients gives the org's Retell client (app/voice.Service).
type Clients interface {
	Client(ctx context.Context, orgID int64) (*retell.Client, model.VoiceAccount, error)
}

// Service starts calls.
type Service struct {
	st      *store.Store
	clients Clients
	now     func() time.Time
}

// New returns the service.
func New(st *store.Store, clients Clients) *Service {
	return &Service{st: st, clients: clients, now: time.Now}
}

// SetClock replaces the clock calling hours are read against (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Request is a call to start. Only the contact (or a lead or conversation to find it by)
// is needed; the rest have defaults.
type Request struct {
	OrgID          int64
	ContactID      int64             // the contact called; 0: the lead's or conversation's
	LeadID         int64             // 0: the contact's latest open lead, if any
	ConversationID int64             // 0: the contact's latest conversation, if any
	CampaignID     int64             // 0: none
	NumberID       int64             // 0: the org's first ready number with an outbound agent
	AgentID        string            // "": the number's outbound agent
	Variables      map[string]string // more dynamic variables; they win over the contact's
	StartedBy      int64             // the member who started it; 0 for a campaign or the API
}

// Start calls the contact and returns the call's row (status registered, Retell's id).
// Errors: model.ErrNotFound for ids that are not the org's; *model.ValidationError for what
// the user can fix (no phone, no number, Retell not connected, the contact refused calls);
// *OutsideHours; ErrBusy; Retell's *retell.Error.
func (s *Service) Start(ctx context.Context, r Request) (model.Call, error) {
	d, err := s.st.DialContext(ctx, r.OrgID, r.ContactID, r.LeadID, r.ConversationID, r.NumberID)
	if err != nil {
		return model.Call{}, err
	}
	if d.ContactID == nil || (r.LeadID != 0 && (d.LeadID == nil || *d.LeadID != r.LeadID)) ||
		(r.ConversationID != 0 && (d.ConversationID == nil || *d.ConversationID != r.ConversationID)) {
		return model.Call{}, model.ErrNotFound
	}
	if d.AccountID == nil {
		return model.Call{}, model.FieldError("voice", "call.error.no_account")
	}
	if d.NumberID == nil {
		if r.NumberID != 0 {
			return model.Call{}, model.ErrNotFound
		}
		return model.Call{}, model.FieldError("number", "call.error.no_number")
	}
	if d.OptedOut != nil && *d.OptedOut {
		return model.Call{}, model.FieldError("contact", "call.error.opted_out")
	}
	to := ""
	if d.Phone != nil {
		to, _ = phone.Normalize(*d.Phone, "BR")
	}
	if to == "" {
		return model.Call{}, model.FieldError("contact", "call.error.no_phone")
	}
	agent := r.AgentID
	if agent == "" && d.OutboundAgentID != nil {
		agent = *d.OutboundAgentID
	}
	if agent == "" {
		return model.Call{}, model.FieldError("agent", "call.error.no_agent")
	}

	zone := contactZone(d, to)
	hours := Hours{Start: deref(d.CallHoursStart), End: deref(d.CallHoursEnd), Days: deref(d.CallDays)}
	if next, open := hours.Next(s.now(), zone); !open {
		return model.Call{}, &OutsideHours{Next: next, Zone: zone.String()}
	}

	vars := Variables(d)
	for k, v := range r.Variables {
		vars[k] = v
	}
	meta := map[string]int64{"contact_id": *d.ContactID}
	put := func(k string, v *int64) {
		if v != nil {
			meta[k] = *v
		}
	}
	put("lead_id", d.LeadID)
	put("conversation_id", d.ConversationID)
	var campaign *int64
	if r.CampaignID != 0 {
		campaign = &r.CampaignID
		meta["campaign_id"] = r.CampaignID
	}
	var by *int64
	if r.StartedBy != 0 {
		by = &r.StartedBy
	}
	metaJSON, _ := json.Marshal(meta)
	varsJSON, _ := json.Marshal(vars)

	client, _, err := s.clients.Client(ctx, r.OrgID)
	if errors.Is(err, model.ErrNotFound) {
		return model.Call{}, model.FieldError("voice", "call.error.no_account")
	}
	if err != nil {
		return model.Call{}, err
	}
	placeholder, err := placeholderID()
	if err != nil {
		return model.Call{}, err
	}
	id, ok, err := s.st.ReserveCall(ctx, r.OrgID, store.CallReservation{
		Placeholder: placeholder, From: *d.FromNumber, To: to, AgentID: agent,
		ContactID: d.ContactID, LeadID: d.LeadID, ConversationID: d.ConversationID, CampaignID: campaign,
		NumberID: *d.NumberID, Metadata: metaJSON, Variables: varsJSON, StartedBy: by, Max: deref(d.MaxConcurrent),
	})
	if err != nil {
		return model.Call{}, err
	}
	if !ok {
		return model.Call{}, ErrBusy
	}

	in := retell.CreatePhoneCall{FromNumber: *d.FromNumber, ToNumber: to, Metadata: metaJSON, DynamicVariables: vars}
	if d.OutboundAgentID == nil || agent != *d.OutboundAgentID {
		in.OverrideAgentID = agent
	}
	rc, err := client.CreatePhoneCall(ctx, in)
	if err != nil {
		// The call was not placed: its reservation goes, so it neither counts nor shows.
		// A context cancelled after Retell placed it would leave the call to its events.
		if derr := s.st.DropCall(context.WithoutCancel(ctx), r.OrgID, id); derr != nil {
			err = errors.Join(err, derr)
		}
		var re *retell.Error
		if errors.As(err, &re) && re.Status == 429 {
			return model.Call{}, fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return model.Call{}, err
	}
	ctx = context.WithoutCancel(ctx) // the call exists now: record it whatever the caller does
	var c model.Call
	if _, err := s.st.ConfirmCall(ctx, r.OrgID, id, rc.CallID, rc.AgentID, func(tx *store.Store) error {
		var err error
		if c, err = tx.CallByRetellID(ctx, r.OrgID, rc.CallID); err != nil {
			return err
		}
		_, err = events.CallRegistered.Publish(ctx, tx, r.OrgID, calls.Ref(c))
		return err
	}); err != nil {
		return model.Call{}, err
	}
	if c.ID == 0 { // the call's events came first and made its row
		return s.st.CallByRetellID(ctx, r.OrgID, rc.CallID)
	}
	return c, nil
}

// Variables are the dynamic variables of a call to the contact of d, for the agent's
// prompt ({{first_name}}…): the contact's name, phone and email, its lead's title, stage,
// pipeline and value, and each custom field by its key (a field named like one of these
// does not replace it).
func Variables(d store.DialContext) map[string]string {
	v := map[string]string{}
	var attrs map[string]any
	if len(d.Attributes) > 0 {
		_ = json.Unmarshal(d.Attributes, &attrs)
	}
	for k, a := range attrs {
		switch a := a.(type) {
		case string:
			v[k] = a
		case float64:
			v[k] = strconv.FormatFloat(a, 'f', -1, 64)
		case bool:
			v[k] = strconv.FormatBool(a)
		}
	}
	for _, k := range []string{"empresa", "company_name", "organization"} {
		if s, ok := v[k]; ok && v["company"] == "" {
			v["company"] = s
		}
	}
	set := func(k string, p *string) {
		if p != nil && *p != "" {
			v[k] = *p
		}
	}
	set("name", d.Name)
	if d.Name != nil {
		if f := strings.Fields(*d.Name); len(f) > 0 {
			v["first_name"] = f[0]
		}
	}
	set("phone", d.Phone)
	set("email", d.Email)
	set("lead_title", d.LeadTitle)
	set("stage", d.Stage)
	set("pipeline", d.Pipeline)
	if d.LeadValueCents != nil && *d.LeadValueCents > 0 {
		v["lead_value"] = fmt.Sprintf("%d.%02d", *d.LeadValueCents/100, *d.LeadValueCents%100)
		set("currency", d.Currency)
	}
	return v
}

// contactZone is the contact's time zone: its stored one, else its phone's, else the org's.
func contactZone(d store.DialContext, e164 string) *time.Location {
	org, err := time.LoadLocation(d.OrgZone)
	if err != nil {
		org = time.UTC
	}
	var attrs struct {
		Zone string `json:"time_zone"`
	}
	if len(d.Attributes) > 0 && json.Unmarshal(d.Attributes, &attrs) == nil && attrs.Zone != "" {
		if z, err := time.LoadLocation(attrs.Zone); err == nil {
			return z
		}
	}
	return compose.Zone(e164, org)
}

func placeholderID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "pending:" + hex.EncodeToString(b), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
