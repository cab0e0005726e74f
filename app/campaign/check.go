package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"masteria/app/campaign/compose"
	"masteria/app/channel"
	"masteria/app/model"
	"masteria/app/store"
)

// Report is the pre-launch check (the governor): what a launch would send, to whom, how
// fast, within which limits, for how much. The engine enforces the same rules.
type Report struct {
	Audience int64             `json:"audience"`   // contacts in the audience
	Sendable int64             `json:"sendable"`   // recipients after skips and dedup
	Skips    map[string]int64  `json:"skips"`      // by reason (model.Skip*)
	Dupes    []store.Duplicate `json:"duplicates"` // examples: who is skipped, who gets it

	Kind string  `json:"channel_kind"`
	Pace float64 `json:"pace"` // messages per second

	// WhatsApp's limit of unique people reached outside a service window per moving 24 h,
	// shared by the numbers of the business account (-1 unlimited, 0 unknown), what our own
	// ledger counts in the last 24 hours, and what remains.
	DailyLimit int64     `json:"daily_limit"`
	ReachedDay int64     `json:"reached_24h"`
	Remaining  int64     `json:"remaining"`
	OverLimit  int64     `json:"over_limit"`       // recipients beyond what remains today
	Spread     bool      `json:"spread"`           // they go over the next days
	SpreadDays int       `json:"spread_days"`      // days the spreading needs
	LimitAt    time.Time `json:"limit_updated_at"` // when the limit was read

	// A QR number's safety: its random delay between sends, its daily cap today (after the
	// warm-up of a recently linked number).
	DelayMin int   `json:"delay_min_s,omitempty"`
	DelayMax int   `json:"delay_max_s,omitempty"`
	DailyCap int64 `json:"daily_cap,omitempty"`

	Duration time.Duration `json:"duration_ns"` // estimated sending time
	Cost     float64       `json:"cost"`
	Currency string        `json:"currency"`
	// SMS: the message's segments and encoding (GSM-7 or UCS-2), priced per segment.
	Segments    int     `json:"segments,omitempty"` // the most any person's text takes
	AvgSegments float64 `json:"avg_segments,omitempty"`
	Encoding    string  `json:"encoding,omitempty"`
	// costSegments is the segment count the first estimate priced.
	costSegments int
	// Quiet hours in the contacts' zones, if any.
	QuietStart int      `json:"quiet_start"`
	QuietEnd   int      `json:"quiet_end"`
	Warnings   []string `json:"warnings"` // stable keys the UI translates
}

// QRSettings are the safety settings of a number linked by QR code.
type QRSettings struct {
	DelayMin int  `json:"delay_min_s"` // random pause between two sends, in seconds
	DelayMax int  `json:"delay_max_s"`
	DailyCap int  `json:"daily_cap"` // sends per day by campaigns
	Warmup   bool `json:"warmup"`    // a recently linked number starts lower and doubles daily
}

// DefaultQR are safe defaults for a WhatsApp number linked by QR code.
var DefaultQR = QRSettings{DelayMin: 4, DelayMax: 12, DailyCap: 500, Warmup: true}

// qrSettings reads a channel's QR settings over the defaults.
func qrSettings(raw json.RawMessage) QRSettings {
	q := DefaultQR
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &q)
	}
	if q.DelayMin < 1 {
		q.DelayMin = 1
	}
	if q.DelayMax < q.DelayMin {
		q.DelayMax = q.DelayMin
	}
	if q.DailyCap < 1 {
		q.DailyCap = DefaultQR.DailyCap
	}
	return q
}

// dailyCap is a QR number's cap today: during the warm-up, 50 on the day it was linked,
// doubling every day up to the cap.
func (q QRSettings) dailyCap(linked, now time.Time) int64 {
	limit := int64(q.DailyCap)
	if q.Warmup {
		days := int(now.Sub(linked).Hours() / 24)
		if days < 10 {
			limit = min(limit, int64(50)<<days)
		}
	}
	return limit
}

// KindVoice is the Report's kind of a call campaign.
const KindVoice = "voice"

// checkCall is the pre-launch check of a call campaign: who would be called (the same
// skips: no phone, duplicates, opted out…) and how long the calls take at its concurrency
// (about two minutes a call, a guess until calls are measured).
func (s *Service) checkCall(ctx context.Context, c model.Campaign) (Report, error) {
	if _, err := s.readyCall(ctx, c); err != nil {
		return Report{}, err
	}
	sp, err := s.callSnapshot(ctx, c)
	if err != nil {
		return Report{}, err
	}
	chk, err := s.st.CheckAudience(ctx, c.OrgID, sp)
	if err != nil {
		return Report{}, err
	}
	st := c.Settings
	st.DefaultCallSettings()
	r := Report{Skips: map[string]int64{}, Dupes: chk.Duplicates, Kind: KindVoice, Pace: float64(st.Concurrency) / 120}
	for reason, n := range chk.Skips {
		r.Audience += n
		if reason == "" {
			r.Sendable = n
		} else {
			r.Skips[reason] = n
		}
	}
	r.Duration = time.Duration(float64(r.Sendable)/r.Pace) * time.Second
	return r, nil
}

// Check runs the pre-launch check of a campaign that is ready.
func (s *Service) Check(ctx context.Context, a model.Actor, id int64) (Report, error) {
	c, err := s.Campaign(ctx, a, id)
	if err != nil {
		return Report{}, err
	}
	r, err := s.check(ctx, c)
	if err != nil || r.Kind != model.KindTwilioSMS || r.Sendable == 0 {
		return r, err
	}
	// SMS is priced per segment of the text each person gets: render it for a sample of
	// the audience (fields filled, one spintax variation each) and price the average.
	previews, err := s.Previews(ctx, a, c, smsSample)
	if err != nil || len(previews) == 0 {
		return r, err
	}
	total, n := 0, 0
	r.Segments, r.Encoding = 0, "GSM-7"
	for _, p := range previews {
		for _, text := range p.Texts {
			seg, enc := compose.SMSSegments(text)
			total, n = total+seg, n+1
			r.Segments = max(r.Segments, seg)
			if enc != "GSM-7" {
				r.Encoding = enc
			}
		}
	}
	r.AvgSegments = float64(total) / float64(n)
	r.Cost = r.Cost / float64(max(1, r.costSegments)) * r.AvgSegments
	return r, nil
}

// smsSample is how many people's texts price an SMS campaign.
const smsSample = 50

func (s *Service) check(ctx context.Context, c model.Campaign) (Report, error) {
	if c.Voice() {
		return s.checkCall(ctx, c)
	}
	ch, _, err := s.ready(ctx, c)
	if err != nil {
		return Report{}, err
	}
	sp, err := s.snapshot(ctx, c, ch)
	if err != nil {
		return Report{}, err
	}
	chk, err := s.st.CheckAudience(ctx, c.OrgID, sp)
	if err != nil {
		return Report{}, err
	}
	r := Report{Skips: map[string]int64{}, Dupes: chk.Duplicates, Kind: ch.Kind, Pace: ch.Rate,
		QuietStart: c.Settings.QuietStart, QuietEnd: c.Settings.QuietEnd, Spread: c.Settings.Spread}
	for reason, n := range chk.Skips {
		r.Audience += n
		if reason == "" {
			r.Sendable = n
		} else {
			r.Skips[reason] = n
		}
	}
	limits, err := s.st.ChannelLimits(ctx, c.OrgID, ch.ID)
	if err != nil {
		return r, err
	}
	secs := float64(r.Sendable) / math.Max(ch.Rate, 0.1)
	switch ch.Kind {
	case model.KindWhatsAppCloud:
		if err := s.cloudLimits(ctx, c, ch, limits, &r); err != nil {
			return r, err
		}
	case model.KindWhatsAppQR:
		q := qrSettings(limits.SendSettings)
		r.DelayMin, r.DelayMax = q.DelayMin, q.DelayMax
		r.DailyCap = q.dailyCap(ch.CreatedAt, s.now())
		r.Pace = 2 / float64(q.DelayMin+q.DelayMax)
		secs = float64(r.Sendable) * float64(q.DelayMin+q.DelayMax) / 2
		if r.Sendable > r.DailyCap {
			r.Warnings = append(r.Warnings, "qr_daily_cap")
			r.SpreadDays = int((r.Sendable + r.DailyCap - 1) / r.DailyCap)
		}
	case model.KindTwilioSMS:
		if len(c.Message.Variants) > 0 {
			r.Segments, r.Encoding = compose.SMSSegments(c.Message.Variants[0].Text)
		}
	}
	if r.SpreadDays > 1 {
		secs += float64(r.SpreadDays-1) * 24 * 3600
	}
	r.Duration = time.Duration(secs * float64(time.Second))
	if err := s.estimate(ctx, c, ch, chk.Prefixes, &r); err != nil {
		return r, err
	}
	if c.Settings.QuietStart != c.Settings.QuietEnd {
		r.Warnings = append(r.Warnings, "quiet_hours")
	}
	if r.Skips[model.SkipMissingVar] > 0 {
		r.Warnings = append(r.Warnings, "missing_variables")
	}
	if limits.Quality == "RED" {
		r.Warnings = append(r.Warnings, "quality_low")
	}
	if r.Sendable == 0 {
		r.Warnings = append(r.Warnings, "nobody")
	}
	return r, nil
}

// cloudLimits fills WhatsApp's 24-hour limit: read from the Graph API when it is unknown or
// older than an hour (webhooks keep it current in between), counted from our ledger.
func (s *Service) cloudLimits(ctx context.Context, c model.Campaign, ch model.Channel, l store.ChannelLimits, r *Report) error {
	if l.LimitsAt == nil || s.now().Sub(*l.LimitsAt) > time.Hour {
		if got, err := s.readLimits(ctx, ch); err == nil {
			l.MessagingLimit, l.Quality, l.LimitsAt = got.Messaging, got.Quality, new(s.now())
			if got.PerSecond > 0 && r.Pace > float64(got.PerSecond) {
				r.Pace = float64(got.PerSecond) // the number's throughput caps the pace set
			}
		}
	}
	if l.LimitsAt != nil {
		r.LimitAt = *l.LimitsAt
	}
	r.DailyLimit = int64(l.MessagingLimit)
	if r.DailyLimit <= 0 {
		if r.DailyLimit == 0 {
			r.Warnings = append(r.Warnings, "limit_unknown")
		}
		return nil
	}
	group, err := s.portfolio(ctx, ch)
	if err != nil {
		return err
	}
	reached, _, err := s.st.Reach24h(ctx, c.OrgID, group)
	if err != nil {
		return err
	}
	r.ReachedDay = reached
	r.Remaining = max(0, r.DailyLimit-reached)
	if r.Sendable > r.Remaining {
		r.OverLimit = r.Sendable - r.Remaining
		r.Warnings = append(r.Warnings, "over_daily_limit")
		if c.Settings.Spread {
			r.SpreadDays = 1 + int((r.OverLimit+r.DailyLimit-1)/r.DailyLimit)
		}
	}
	return nil
}

// readLimits asks the provider for a number's limits and keeps them.
func (s *Service) readLimits(ctx context.Context, ch model.Channel) (channel.Limits, error) {
	client, err := s.out.Client(ch)
	if err != nil {
		return channel.Limits{}, err
	}
	lr, ok := client.(channel.LimitReader)
	if !ok {
		return channel.Limits{}, errors.New("campaign: the channel cannot read its limits")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := lr.Limits(ctx)
	if err != nil {
		return got, err
	}
	return got, s.st.SetChannelLimits(ctx, ch.OrgID, ch.ID, got.Messaging, got.Quality)
}

// portfolio is the channels that share a Cloud API number's messaging limit: the org's
// Cloud API channels of the same WhatsApp Business Account.
func (s *Service) portfolio(ctx context.Context, ch model.Channel) ([]int64, error) {
	all, err := s.st.Channels(ctx, ch.OrgID)
	if err != nil {
		return nil, err
	}
	waba := func(c model.Channel) string {
		var cfg struct {
			WABA string `json:"waba_id"`
		}
		_ = channel.Config(c, &cfg)
		return cfg.WABA
	}
	mine := waba(ch)
	ids := []int64{ch.ID}
	for _, c := range all {
		if c.ID != ch.ID && c.Kind == model.KindWhatsAppCloud && mine != "" && waba(c) == mine {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

// estimate prices the send from the org's price table over the defaults, by the country of
// each recipient's number.
func (s *Service) estimate(ctx context.Context, c model.Campaign, ch model.Channel, prefixes map[string]int64, r *Report) error {
	prices, err := s.Prices(ctx, c.OrgID)
	if err != nil {
		return err
	}
	byCountry := map[string]int{}
	keys := make([]string, 0, len(prefixes))
	for p := range prefixes {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		// The first digits name the country: try the shortest calling code that is one.
		byCountry[prefixCountry(p)] += int(prefixes[p])
	}
	category := c.Settings.Category
	if category == "" {
		category = compose.CategoryMarketing
	}
	r.costSegments = max(1, r.Segments)
	r.Cost, r.Currency = compose.Estimate(prices, ch.Kind, category, byCountry, r.costSegments)
	return nil
}

// prefixCountry is the country of a number's first digits ("+551" → BR): the shortest
// calling code the digits start with names it (+1 is priced as the US).
func prefixCountry(prefix string) string {
	digits := strings.TrimPrefix(prefix, "+")
	for n := 1; n <= len(digits) && n <= 3; n++ {
		cc, err := strconv.Atoi(digits[:n])
		if err != nil {
			return ""
		}
		if region := phonenumbers.GetRegionCodeForCountryCode(cc); region != "" && region != "ZZ" {
			return region
		}
	}
	return ""
}

// Prices is the org's price table: its own rows over the editable defaults.
func (s *Service) Prices(ctx context.Context, orgID int64) (compose.Prices, error) {
	p := compose.DefaultPrices()
	rows, err := s.st.Prices(ctx, orgID)
	if err != nil {
		return p, err
	}
	for _, row := range rows {
		p.Rows[compose.PriceKey{Kind: row.Kind, Country: row.Country, Category: row.Category}] = row.Price
		if row.Currency != "" {
			p.Currency = row.Currency // the org's table is in one currency
		}
	}
	return p, nil
}
