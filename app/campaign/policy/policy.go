// Package policy is the contact policy every automated send (a campaign's, a cadence's)
// passes before it leaves; the bot's replies and agents' service replies are not automated
// sends and do not pass it.
//
//   - An opt-out on any channel (contacts.opted_out) blocks automated sends on every channel.
//   - A frequency cap: at most the org's daily cap of automated sends to a contact in 24
//     hours, across all campaigns and cadences, counted from the automated sends Record
//     writes.
//   - Quiet hours in the contact's zone (its own, else its phone's, else the org's).
//   - SMS and calls need a phone: a contact known only by a WhatsApp user id has none.
//   - The same SMS text (after its variables) never goes to the same phone twice within the
//     org's window, whichever campaign, cadence or contact sends it: a database constraint
//     (sms_sends_no_duplicate), so it holds under concurrency and across instances.
//
// Check reads and decides; Record, in the transaction that commits to sending, decides
// again under a per-contact lock and records the send.
package policy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"masteria/app/campaign/compose"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/store"
)

// Reasons a send is refused.
const (
	ReasonOptedOut     = "opted_out"
	ReasonCapped       = "capped"
	ReasonQuietHours   = "quiet_hours"
	ReasonNoPhone      = "no_phone"
	ReasonDuplicateSMS = model.SkipDuplicateSMS
)

// Channels a send goes on, and its sources.
const (
	ChannelWhatsApp = model.ChannelWhatsApp
	ChannelSMS      = model.ChannelSMS
	ChannelVoice    = "voice"

	SourceCampaign = "campaign"
	SourceCadence  = "cadence"
)

// Send is one automated send about to go.
type Send struct {
	OrgID, ContactID int64
	Channel          string // whatsapp, sms, voice
	Phone            string // E.164, "" if none (the contact's phone is used then)
	Text             string // the SMS text after its variables
	Source           string // campaign, cadence
	SourceID         int64
	SourceName       string
	// OwnQuietHours says the sender keeps quiet hours of its own and has applied them (a
	// campaign's setting, 21:00–08:00 unless its author changed it): the org's are not
	// applied again. Opt-out, phone, cap and SMS duplication still are.
	OwnQuietHours bool
}

// Verdict is whether a send may go now, and if not why and until when.
type Verdict struct {
	OK     bool
	Reason string // opted_out, capped, quiet_hours, no_phone, duplicate_sms
	// Detail is the refusal in plain English words, e.g. "same SMS sent at 14:02 by cadence
	// Boas-vindas"; Explain gives it in the reader's language.
	Detail string
	// Until is when the send may go (quiet hours, cap); zero if never.
	Until time.Time
	// Prior is the earlier send a duplicate SMS collided with: when (in the org's zone),
	// by which kind of sender and its name.
	Prior Prior
}

// Prior is the send a duplicate SMS repeats.
type Prior struct {
	At         time.Time
	Source     string
	SourceID   int64
	SourceName string
}

// Policy checks and records automated sends.
type Policy struct {
	st *store.Store
}

// New returns the policy over st.
func New(st *store.Store) *Policy { return &Policy{st: st} }

// ErrBadSend is a Send the policy cannot judge (an unknown channel or source).
var ErrBadSend = errors.New("policy: bad send")

func (s Send) valid() error {
	if s.OrgID <= 0 || s.ContactID <= 0 {
		return fmt.Errorf("%w: no org or contact", ErrBadSend)
	}
	if !slices.Contains([]string{ChannelWhatsApp, ChannelSMS, ChannelVoice}, s.Channel) {
		return fmt.Errorf("%w: channel %q", ErrBadSend, s.Channel)
	}
	if s.Source != SourceCampaign && s.Source != SourceCadence {
		return fmt.Errorf("%w: source %q", ErrBadSend, s.Source)
	}
	return nil
}

// Settings returns the org's policy.
func (p *Policy) Settings(ctx context.Context, orgID int64) (model.PolicySettings, error) {
	return p.st.PolicySettings(ctx, orgID)
}

// Save changes the org's policy; owners and admins only.
func (p *Policy) Save(ctx context.Context, a model.Actor, in model.PolicySettings) error {
	if !a.Role.May(model.ManageOrg) {
		return model.ErrForbidden
	}
	if err := in.Validate(); err != nil {
		return err
	}
	return p.st.SavePolicySettings(ctx, a.OrgID, in)
}

// Check tells whether s may go at now: opt-out on any channel, a phone for SMS and calls,
// the frequency cap and quiet hours. It only reads; tx may be nil (the policy's store).
func (p *Policy) Check(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, error) {
	if tx == nil {
		tx = p.st
	}
	v, _, err := p.check(ctx, tx, s, now)
	return v, err
}

// check is Check, with the contact's facts for Record.
func (p *Policy) check(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, facts, error) {
	if err := s.valid(); err != nil {
		return Verdict{}, facts{}, err
	}
	c, err := tx.PolicyContact(ctx, s.OrgID, s.ContactID, now.Add(-24*time.Hour))
	if err != nil {
		return Verdict{}, facts{}, err
	}
	f := newFacts(s, c)
	return f.judge(s, now), f, nil
}

// facts are what the policy knows of a send's contact and org.
type facts struct {
	optedOut []string
	phone    string
	zone     *time.Location // the contact's
	orgZone  *time.Location
	settings model.PolicySettings
	recent   []time.Time // automated sends of the last 24 hours, newest first
}

func newFacts(s Send, c store.PolicyContact) facts {
	f := facts{optedOut: c.OptedOut, phone: strings.TrimSpace(s.Phone), settings: c.PolicySettings, recent: c.RecentSends()}
	if f.phone == "" && c.Phone != nil {
		f.phone = *c.Phone
	}
	f.orgZone = loadZone(c.OrgZone, time.UTC)
	switch {
	case c.Zone != "":
		f.zone = loadZone(c.Zone, f.orgZone)
	case strings.HasPrefix(f.phone, "+"):
		f.zone = compose.Zone(f.phone, f.orgZone)
	default:
		f.zone = f.orgZone
	}
	return f
}

func loadZone(name string, fallback *time.Location) *time.Location {
	if name == "" {
		return fallback
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return fallback
	}
	return z
}

// judge decides: a refusal that time cannot lift (opt-out, no phone) first, then the
// earliest time the cap and quiet hours both allow.
func (f facts) judge(s Send, now time.Time) Verdict {
	if len(f.optedOut) > 0 {
		return Verdict{Reason: ReasonOptedOut, Detail: "opted out of " + strings.Join(f.optedOut, ", ")}
	}
	if (s.Channel == ChannelSMS || s.Channel == ChannelVoice) && f.phone == "" {
		return Verdict{Reason: ReasonNoPhone, Detail: "no phone number: known only by a WhatsApp user id"}
	}
	var v Verdict
	at := now
	if n := f.settings.DailyCap; n > 0 && len(f.recent) >= n {
		// The n-th newest send leaves the 24 hours first among those that fill the cap.
		at = f.recent[n-1].Add(24 * time.Hour)
		v = Verdict{Reason: ReasonCapped, Detail: fmt.Sprintf("%d automated messages in 24 hours", len(f.recent)), Until: at}
	}
	if until, quiet := compose.QuietUntil(at, f.zone, f.settings.QuietStart, f.settings.QuietEnd); quiet && !s.OwnQuietHours {
		if v.Reason == "" {
			v = Verdict{Reason: ReasonQuietHours, Detail: fmt.Sprintf("quiet hours %02d:00–%02d:00 in %s",
				f.settings.QuietStart, f.settings.QuietEnd, f.zone.String())}
		}
		v.Until = until
	}
	if v.Reason == "" {
		v.OK = true
	}
	return v
}

// Record, inside the transaction that commits to sending s, decides again under a lock on
// the contact (so concurrent sends cannot both take its last slot), then counts the send
// toward the cap and, for an SMS, takes its duplication slot. A refusal records nothing; a
// duplicate SMS comes back as Reason duplicate_sms, naming the earlier send.
func (p *Policy) Record(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, error) {
	if tx == nil || tx.SQLTx() == nil {
		return Verdict{}, errors.New("policy: Record needs a transaction")
	}
	if err := s.valid(); err != nil {
		return Verdict{}, err
	}
	if err := tx.LockPolicyContact(ctx, s.OrgID, s.ContactID); err != nil {
		return Verdict{}, err
	}
	v, f, err := p.check(ctx, tx, s, now)
	if err != nil || !v.OK {
		return v, err
	}
	if s.Channel == ChannelSMS && f.settings.SMSDedupHours > 0 {
		prior, ok, err := tx.TakeSMSSlot(ctx, store.SMSSend{OrgID: s.OrgID, Phone: f.phone, TextHash: TextHash(s.Text), At: now,
			Hours: f.settings.SMSDedupHours, ContactID: s.ContactID, Source: s.Source, SourceID: s.SourceID, SourceName: s.SourceName})
		if err != nil {
			return Verdict{}, err
		}
		if !ok {
			pr := Prior{At: prior.SentAt.In(f.orgZone), Source: prior.Source, SourceID: prior.SourceID, SourceName: prior.SourceName}
			return Verdict{Reason: ReasonDuplicateSMS, Prior: pr,
				Detail: model.DuplicateSMSDetail(pr.At.Format("15:04"), pr.Source, pr.SourceName)}, nil
		}
	}
	err = tx.InsertAutomatedSend(ctx, store.AutomatedSend{OrgID: s.OrgID, ContactID: s.ContactID, Channel: s.Channel,
		Source: s.Source, SourceID: s.SourceID, SourceName: s.SourceName, At: now})
	return Verdict{OK: true}, err
}

// TextHash is what the duplication guard compares: the SHA-256 of the text as it goes,
// its surrounding spaces aside.
func TextHash(text string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(text)))
	return h[:]
}

// reasonKeys and sourceKeys are the i18n keys of the refusals and of who sent.
var (
	reasonKeys = map[string]string{
		ReasonOptedOut:     "policy.reason.opted_out",
		ReasonCapped:       "policy.reason.capped",
		ReasonQuietHours:   "policy.reason.quiet_hours",
		ReasonNoPhone:      "policy.reason.no_phone",
		ReasonDuplicateSMS: "policy.reason.duplicate_sms",
	}
	sourceKeys = map[string]string{SourceCampaign: "policy.source.campaign", SourceCadence: "policy.source.cadence"}
)

// Explain is the verdict's refusal in the reader's language, e.g. "skipped: same SMS sent
// at 14:02 by cadence Boas-vindas"; "" when the send may go.
func (v Verdict) Explain(l i18n.Locale) string {
	key, ok := reasonKeys[v.Reason]
	if v.OK || !ok {
		return ""
	}
	switch v.Reason {
	case ReasonDuplicateSMS:
		source := v.Prior.Source
		if k, ok := sourceKeys[source]; ok {
			source = i18n.T(l, k)
		}
		return i18n.T(l, key, "time", v.Prior.At.Format("15:04"), "source", source, "name", v.Prior.SourceName)
	case ReasonCapped, ReasonQuietHours:
		return i18n.T(l, key, "until", i18n.FormatTime(l, v.Until))
	}
	return i18n.T(l, key)
}
