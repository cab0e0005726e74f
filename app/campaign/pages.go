package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"masteria/app/campaign/compose"
	"masteria/app/model"
	"masteria/app/store"
)

// What the campaign pages ask of the service beyond drafts and launches: the list's
// summaries, the audience's live count, a preview for real contacts, the channels' send
// settings and the price table.

// Summaries counts the recipients of a page of campaigns by status, in one query; drafts
// have none.
func (s *Service) Summaries(ctx context.Context, a model.Actor, ids []int64) (map[int64]model.Progress, error) {
	if err := mayRun(a); err != nil {
		return nil, err
	}
	return s.st.CampaignSummaries(ctx, a.OrgID, ids)
}

// AudienceSize counts the contacts of an audience (before the channel's skips and dedup),
// for the builder's live count. Another org's ids are model.ErrNotFound.
func (s *Service) AudienceSize(ctx context.Context, a model.Actor, aud model.Audience) (int64, error) {
	if err := mayRun(a); err != nil {
		return 0, err
	}
	if aud.Empty() {
		return 0, nil
	}
	ok, err := s.st.AudienceOwned(ctx, a.OrgID, aud)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, model.ErrNotFound
	}
	sp, err := s.snapshot(ctx, model.Campaign{OrgID: a.OrgID, Audience: aud}, model.Channel{})
	if err != nil {
		return 0, err
	}
	chk, err := s.st.CheckAudience(ctx, a.OrgID, sp)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, k := range chk.Skips {
		n += k
	}
	return n, nil
}

// Preview is one contact's message of each variant.
type Preview struct {
	Contact model.Contact
	Texts   []string // per variant
	Missing []bool   // per variant: a variable with no value and no fallback (skipped)
}

// Previews renders the campaign's variants for up to n real contacts its launch would send
// to: texts with compose.Render (the contact id as the spintax seed), templates with their
// mapping resolved as the launch does.
func (s *Service) Previews(ctx context.Context, a model.Actor, c model.Campaign, n int) ([]Preview, error) {
	if err := mayRun(a); err != nil {
		return nil, err
	}
	if c.Audience.Empty() || c.ChannelID == nil || len(c.Message.Variants) == 0 {
		return nil, nil
	}
	ch, err := s.st.Channel(ctx, a.OrgID, *c.ChannelID)
	if err != nil {
		return nil, err
	}
	sp, err := s.snapshot(ctx, model.Campaign{OrgID: a.OrgID, Audience: c.Audience}, ch)
	if err != nil {
		return nil, err
	}
	ids, err := s.st.AudienceSample(ctx, a.OrgID, sp, n)
	if err != nil {
		return nil, err
	}
	templates := make([]*model.Template, len(c.Message.Variants))
	for i, vr := range c.Message.Variants {
		if vr.TemplateID != 0 {
			t, err := s.st.Template(ctx, a.OrgID, ch.ID, vr.TemplateID)
			if errors.Is(err, model.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			templates[i] = &t
		}
	}
	var out []Preview
	for _, id := range ids {
		ct, err := s.st.Contact(ctx, a.OrgID, id)
		if err != nil {
			return nil, err
		}
		p := Preview{Contact: ct}
		for i, vr := range c.Message.Variants {
			text, missing := RenderFor(vr, templates[i], ct)
			p.Texts = append(p.Texts, text)
			p.Missing = append(p.Missing, missing)
		}
		out = append(out, p)
	}
	return out, nil
}

// RenderFor writes a variant's message for one contact, and whether a value is missing.
func RenderFor(vr model.Variant, t *model.Template, ct model.Contact) (string, bool) {
	if t != nil {
		conv := func(ms []model.VarMap) compose.Mapping {
			var m compose.Mapping
			for _, x := range ms {
				m = append(m, compose.Var{Source: x.Source, Field: x.Field, Key: x.Key, Text: x.Text, Fallback: x.Fallback})
			}
			return m
		}
		params, miss := compose.Resolve(conv(vr.Vars), ct)
		header, hmiss := compose.Resolve(conv(vr.HeaderVars), ct)
		shape := t.Shape()
		body := model.Fill(shape.Body, params)
		if shape.Header != "" {
			body = model.Fill(shape.Header, header) + "\n\n" + body
		}
		return body, len(miss)+len(hmiss) > 0
	}
	out, missing, err := compose.Render(vr.Text, ct, ct.ID)
	if err != nil {
		return vr.Text, true
	}
	return strings.TrimSpace(out), len(missing) > 0
}

// TimeZone is the org's time zone (UTC when it has none or an unknown one).
func (s *Service) TimeZone(ctx context.Context, orgID int64) *time.Location {
	name, err := s.st.OrgTimeZone(ctx, orgID)
	if err != nil || name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Pace limits of a Cloud API number, in messages per second.
const (
	DefaultCloudPace = 80
	MaxCloudPace     = 1000
	SharedCloudPace  = 20 // a number shared with the WhatsApp Business app
)

// SendSettings are a channel's pace and, for QR numbers, its safety settings.
type SendSettings struct {
	Rate float64
	QR   QRSettings
}

// ChannelSendSettings returns a channel's send settings (admins: model.ManageChannels).
func (s *Service) ChannelSendSettings(ctx context.Context, a model.Actor, channelID int64) (model.Channel, SendSettings, error) {
	if !a.Role.May(model.ManageChannels) {
		return model.Channel{}, SendSettings{}, model.ErrForbidden
	}
	ch, err := s.st.Channel(ctx, a.OrgID, channelID)
	if err != nil {
		return ch, SendSettings{}, err
	}
	l, err := s.st.ChannelLimits(ctx, a.OrgID, channelID)
	if err != nil {
		return ch, SendSettings{}, err
	}
	return ch, SendSettings{Rate: ch.Rate, QR: qrSettings(l.SendSettings)}, nil
}

// SetChannelSendSettings saves a channel's pace (Cloud API: 1 to 1,000 messages a second;
// SMS: 1 to 100) or its QR safety (a delay range of 1 to 600 s, a daily cap of 1 to 100,000).
func (s *Service) SetChannelSendSettings(ctx context.Context, a model.Actor, channelID int64, in SendSettings) error {
	ch, cur, err := s.ChannelSendSettings(ctx, a, channelID)
	if err != nil {
		return err
	}
	v := model.NewValidationError()
	rate := cur.Rate
	var raw json.RawMessage
	switch ch.Kind {
	case model.KindWhatsAppQR:
		q := in.QR
		if q.DelayMin < 1 || q.DelayMin > 600 {
			v.Add("delay_min", "campaigns.sending.error.delay")
		}
		if q.DelayMax < q.DelayMin || q.DelayMax > 600 {
			v.Add("delay_max", "campaigns.sending.error.delay_max")
		}
		if q.DailyCap < 1 || q.DailyCap > 100000 {
			v.Add("daily_cap", "campaigns.sending.error.cap")
		}
		raw, _ = json.Marshal(q)
	default:
		limit := float64(MaxCloudPace)
		if ch.Kind != model.KindWhatsAppCloud {
			limit = 100
		}
		if math.IsNaN(in.Rate) || in.Rate < 1 || in.Rate > limit {
			v.Add("rate", "campaigns.sending.error.rate")
		}
		rate = in.Rate
		l, err := s.st.ChannelLimits(ctx, a.OrgID, channelID)
		if err != nil {
			return err
		}
		raw = l.SendSettings
	}
	if err := v.Err(); err != nil {
		return err
	}
	if len(raw) == 0 {
		raw = json.RawMessage(`{}`)
	}
	return s.st.SetChannelSendSettings(ctx, a.OrgID, channelID, raw, rate)
}

// PriceRow is one line of the price table as the page shows it.
type PriceRow struct {
	compose.PriceKey
	Price   float64
	Default float64
	Custom  bool // the org changed it
}

// PriceTable returns the org's price table over the defaults, sorted, and its currency.
func (s *Service) PriceTable(ctx context.Context, a model.Actor) ([]PriceRow, string, error) {
	if err := mayRun(a); err != nil {
		return nil, "", err
	}
	def := compose.DefaultPrices()
	rows, err := s.st.Prices(ctx, a.OrgID)
	if err != nil {
		return nil, "", err
	}
	var out []PriceRow
	for k, p := range def.Rows {
		if k.Category == compose.CategoryService {
			continue
		}
		out = append(out, PriceRow{PriceKey: k, Price: p, Default: p})
	}
	currency := def.Currency
	for _, r := range rows {
		k := compose.PriceKey{Kind: r.Kind, Country: r.Country, Category: r.Category}
		found := false
		for i := range out {
			if out[i].PriceKey == k {
				out[i].Price, out[i].Custom, found = r.Price, true, true
			}
		}
		if !found {
			out = append(out, PriceRow{PriceKey: k, Price: r.Price, Custom: true})
		}
		if r.Currency != "" {
			currency = r.Currency
		}
	}
	sortPrices(out)
	return out, currency, nil
}

func sortPrices(rows []PriceRow) {
	less := func(a, b PriceRow) bool {
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if (a.Country == compose.OtherCountry) != (b.Country == compose.OtherCountry) {
			return b.Country == compose.OtherCountry
		}
		if a.Country != b.Country {
			return a.Country < b.Country
		}
		return a.Category < b.Category
	}
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// SetPrice saves one line of the org's price table: a known channel kind, a country (ISO
// code or "other"), a category the kind prices by, a price of 0 to 10 and a currency code.
func (s *Service) SetPrice(ctx context.Context, a model.Actor, p store.Price) error {
	if err := mayRun(a); err != nil {
		return err
	}
	v := model.NewValidationError()
	switch p.Kind {
	case model.KindWhatsAppCloud:
		switch p.Category {
		case compose.CategoryMarketing, compose.CategoryUtility, compose.CategoryAuthentication:
		default:
			v.Add("category", "campaigns.error.category")
		}
	case model.KindWhatsAppQR, model.KindTwilioSMS:
		p.Category = compose.CategoryAny
	default:
		v.Add("kind", "campaigns.prices.error.kind")
	}
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	if p.Country == "OTHER" {
		p.Country = compose.OtherCountry
	}
	if p.Country != compose.OtherCountry && !isCountry(p.Country) {
		v.Add("country", "campaigns.prices.error.country")
	}
	if math.IsNaN(p.Price) || p.Price < 0 || p.Price > 10 {
		v.Add("price", "campaigns.prices.error.price")
	}
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if !isCurrency(p.Currency) {
		v.Add("currency", "campaigns.prices.error.currency")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.st.SetPrice(ctx, a.OrgID, p)
}

// ResetPrice drops the org's own price of one line: the default applies again.
func (s *Service) ResetPrice(ctx context.Context, a model.Actor, kind, country, category string) error {
	if err := mayRun(a); err != nil {
		return err
	}
	return s.st.DeletePrice(ctx, a.OrgID, kind, country, category)
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
