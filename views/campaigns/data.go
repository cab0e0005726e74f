// Package campaigns holds the campaign pages: the list, the builder in steps, the
// pre-launch check, a channel's send settings and the price table.
package campaigns

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"masteria/app/campaign"
	"masteria/app/campaign/compose"
	"masteria/app/i18n"
	"masteria/app/media"
	"masteria/app/model"
	"masteria/app/store"
	inboxview "masteria/views/inbox"
	"masteria/views/ui"
)

// ListData is GET /o/{org}/campaigns.
type ListData struct {
	Rows []Row
	Next int64 // the id to list before for the next page, 0 when none
}

// Row is one campaign of the list with its progress (launched ones).
type Row struct {
	Campaign model.Campaign
	Channel  *model.Channel
	Progress model.Progress
}

// Steps of the builder, in order.
const (
	StepName     = "name"
	StepChannel  = "channel"
	StepAudience = "audience"
	StepMessage  = "message"
	StepSchedule = "schedule"
)

// Steps is the builder's order.
var Steps = []string{StepName, StepChannel, StepAudience, StepMessage, StepSchedule}

// NextStep is the step after s ("" after the last).
func NextStep(s string) string {
	for i, x := range Steps {
		if x == s && i+1 < len(Steps) {
			return Steps[i+1]
		}
	}
	return ""
}

// ValidStep says whether s names a step.
func ValidStep(s string) bool {
	for _, x := range Steps {
		if x == s {
			return true
		}
	}
	return false
}

// BuildData is the builder at one step.
type BuildData struct {
	Campaign model.Campaign // ID 0: a new campaign (the name step)
	Step     string
	Errors   map[string]string // field → i18n key
	Error    string            // a key shown over the form

	Channels []model.Channel
	Channel  *model.Channel // the chosen one

	// Call campaigns: the org's voice numbers that can call (ready, with an outbound agent),
	// the chosen one, the Retell agents to call with and the most calls at once allowed.
	VoiceNumbers  []model.VoiceNumber
	VoiceNumber   *model.VoiceNumber
	Agents        []AgentOption
	AgentsFailed  bool // Retell did not list the agents: the id is typed
	MaxConcurrent int

	// Audience.
	Segments      []model.Segment
	Tags          []model.Tag
	Stages        []model.StageOption
	Picked        []model.Contact // contacts picked by hand
	Import        *model.ContactImport
	AudienceCount int64

	// Message.
	Templates []model.Template // approved templates of a Cloud API channel
	Fields    []model.ContactField
	Previews  []campaign.Preview
	// Files are the stored files the variants name (MediaID), by id.
	Files map[int64]model.Media

	// Schedule.
	Zone *time.Location
}

// AgentOption is a Retell agent a call campaign can call with.
type AgentOption struct {
	ID, Name string
}

func agentLabel(a AgentOption) string {
	if a.Name == "" {
		return a.ID
	}
	return a.Name
}

// retryChoices are the delays offered, with the campaign's own when it is another.
func retryChoices(cur int) []int {
	if cur <= 0 || slices.Contains(RetryChoices, cur) {
		return RetryChoices
	}
	out := append([]int{cur}, RetryChoices...)
	slices.Sort(out)
	return out
}

// retryLabel says a delay in minutes or hours.
func retryLabel(ctx context.Context, m int) string {
	if m >= 60 && m%60 == 0 {
		return ui.N(ctx, "campaigns.call.hours", m/60)
	}
	return ui.N(ctx, "campaigns.call.minutes", m)
}

// RetryChoices are the delays (minutes) offered before an unanswered call is tried again.
var RetryChoices = []int{30, 60, 120, 240, 720, 1440}

// AgentName is the name of an agent id among the options, else the id.
func (d BuildData) AgentName(id string) string {
	for _, a := range d.Agents {
		if a.ID == id && a.Name != "" {
			return a.Name
		}
	}
	return id
}

// Variant is variant i of the campaign, or an empty one.
func (d BuildData) Variant(i int) model.Variant {
	if i < len(d.Campaign.Message.Variants) {
		return d.Campaign.Message.Variants[i]
	}
	return model.Variant{}
}

// Template is the chosen template of a variant, nil when none (or no longer approved).
func (d BuildData) Template(v model.Variant) *model.Template {
	for i := range d.Templates {
		if d.Templates[i].ID == v.TemplateID {
			return &d.Templates[i]
		}
	}
	return nil
}

// File is the stored file a variant names, nil when none (or not found).
func (d BuildData) File(v model.Variant) *model.Media {
	if v.MediaID == 0 {
		return nil
	}
	if m, ok := d.Files[v.MediaID]; ok {
		return &m
	}
	return nil
}

// SentFile is the file variant i sends: a template's media header file when it fits the
// header, or a QR text's attachment; nil when it sends none.
func (d BuildData) SentFile(i int) *model.Media {
	v := d.Variant(i)
	f := d.File(v)
	switch {
	case f == nil:
		return nil
	case d.Kind() == model.KindWhatsAppCloud:
		if t := d.Template(v); t == nil || !t.Shape().HeaderAccepts(f.MIME) {
			return nil
		}
	case d.Kind() != model.KindWhatsAppQR:
		return nil
	}
	return f
}

// mediaAccept is a file input's accept list for a kind of file (image, video, document;
// "" for any the channels send): the types the inbox takes (the server checks again).
func mediaAccept(kind string) string {
	var out []string
	for t := range media.Allowed {
		if kind == "" || model.MediaKind(t) == kind {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// mediaLimit is the largest file of a kind, for people ("5 MB"); "" for any kind, whose
// limit depends on the file.
func mediaLimit(kind string) string {
	if n, ok := media.Limits[kind]; ok {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return ""
}

// fileName is a file's name, or its kind when it has none.
func fileName(ctx context.Context, f model.Media) string {
	if f.Filename != "" {
		return f.Filename
	}
	return ui.T(ctx, "campaigns.media.kind."+model.MediaKind(f.MIME))
}

// fileSize is a size for people: 820 KB, 4.2 MB.
func fileSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// Kind is the chosen channel's kind, "" before one is chosen.
func (d BuildData) Kind() string {
	if d.Campaign.Voice() {
		return campaign.KindVoice
	}
	if d.Channel == nil {
		return ""
	}
	return d.Channel.Kind
}

// CheckData is GET /o/{org}/campaigns/{id}/check.
type CheckData struct {
	Campaign model.Campaign
	Channel  model.Channel
	Report   campaign.Report
	NotReady map[string]string // what is missing, when the campaign cannot be checked yet
	Zone     *time.Location
}

// SendingData is a channel's send settings page.
type SendingData struct {
	Channel  model.Channel
	Settings campaign.SendSettings
	Errors   map[string]string
}

// PricesData is the price table page.
type PricesData struct {
	Rows     []campaign.PriceRow
	Currency string
	Errors   map[string]string
	Input    store.Price // the refused line, shown again
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func num(ctx context.Context, n int64) string { return i18n.FormatInt(ui.From(ctx).Locale, n) }

func itoa(n int) string { return strconv.Itoa(n) }

// StepURL is the builder's page of a step.
func StepURL(ctx context.Context, c model.Campaign, step string) string {
	if c.ID == 0 {
		return ui.OrgURL(ctx, "/campaigns/new")
	}
	return ui.OrgURL(ctx, fmt.Sprintf("/campaigns/%d/edit?step=%s", c.ID, step))
}

// statusKind is a campaign status's badge colour.
func statusKind(s string) string {
	switch s {
	case model.CampaignRunning:
		return "info"
	case model.CampaignCompleted:
		return "success"
	case model.CampaignPaused, model.CampaignScheduled:
		return "warning"
	case model.CampaignCancelled:
		return "danger"
	}
	return "neutral"
}

// rowURL opens a campaign: a draft's builder, else its run page.
func rowURL(ctx context.Context, c model.Campaign) string {
	if c.Status == model.CampaignDraft {
		return StepURL(ctx, c, StepName)
	}
	return ui.OrgURL(ctx, "/campaigns/"+id(c.ID))
}

// kindName is a channel kind in the reader's language.
func kindName(ctx context.Context, kind string) string {
	if kind == campaign.KindVoice {
		return ui.T(ctx, "campaigns.call.kind")
	}
	return inboxview.KindName(ctx, kind)
}

func hasID(ids []int64, n int64) bool {
	for _, x := range ids {
		if x == n {
			return true
		}
	}
	return false
}

// varValue is the select value of a template variable's mapping: "field:first_name",
// "custom:cidade" or "text".
func varValue(m model.VarMap) string {
	switch m.Source {
	case "field":
		return "field:" + m.Field
	case "custom":
		return "custom:" + m.Key
	case "text":
		return "text"
	}
	return ""
}

// VarAt is the i-th mapping of ms, or an empty one.
func VarAt(ms []model.VarMap, i int) model.VarMap {
	if i < len(ms) {
		return ms[i]
	}
	return model.VarMap{Source: "field", Field: "first_name"}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// smsInfo is the live "2 parts · GSM-7" line.
func smsInfo(ctx context.Context, segments int, encoding string) string {
	enc := ui.T(ctx, "campaigns.sms.gsm")
	if strings.Contains(strings.ToUpper(encoding), "UCS") {
		enc = ui.T(ctx, "campaigns.sms.ucs")
	}
	return ui.N(ctx, "campaigns.sms.segments", segments) + " · " + enc
}

// duration writes an estimate as "about 3 h 20 min".
func duration(ctx context.Context, d time.Duration) string {
	switch {
	case d < time.Minute:
		return ui.T(ctx, "campaigns.check.under_minute")
	case d < time.Hour:
		return ui.T(ctx, "campaigns.check.minutes", "n", itoa(int(d.Minutes()+0.5)))
	case d < 48*time.Hour:
		return ui.T(ctx, "campaigns.check.hours", "h", itoa(int(d.Hours())), "m", itoa(int(d.Minutes())%60))
	}
	return ui.T(ctx, "campaigns.check.days", "n", itoa(int(d.Hours()/24+0.5)))
}

func money(ctx context.Context, v float64, currency string) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if ui.From(ctx).Locale != i18n.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return currency + " " + s
}

func price(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func pace(ctx context.Context, v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if v >= 10 || v == float64(int64(v)) {
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	if v < 1 && v > 0 {
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if ui.From(ctx).Locale != i18n.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// scheduleDate and scheduleTime are the campaign's time in the org's zone for the inputs.
func scheduleDate(c model.Campaign, z *time.Location) string {
	if c.ScheduledAt == nil {
		return ""
	}
	return c.ScheduledAt.In(z).Format("2006-01-02")
}

func scheduleTime(c model.Campaign, z *time.Location) string {
	if c.ScheduledAt == nil {
		return ""
	}
	return c.ScheduledAt.In(z).Format("15:04")
}

func hours() []int { return seq(24) }

func hourLabel(h int) string { return fmt.Sprintf("%02d:00", h) }

func zoneName(z *time.Location) string {
	if z == nil {
		return "UTC"
	}
	return z.String()
}

func errOf(m map[string]string, k string) string { return m[k] }

func smsSegments(text string) (int, string) {
	if text == "" {
		return 0, ""
	}
	return compose.SMSSegments(text)
}

func isGSM(enc string) bool { return !strings.Contains(strings.ToUpper(enc), "UCS") }

// notReadyOrder lists the missing fields in the order of the builder's steps.
func notReadyOrder(m map[string]string) []string {
	var out []string
	for _, f := range []string{"name", "channel", "audience", "message", "template", "vars", "text", "scheduled_at"} {
		if m[f] != "" {
			out = append(out, f)
		}
	}
	for f := range m {
		found := false
		for _, x := range out {
			found = found || x == f
		}
		if !found {
			out = append(out, f)
		}
	}
	return out
}

// stepOfField is the builder step where a field is set.
func stepOfField(f string) string {
	switch f {
	case "name":
		return StepName
	case "channel":
		return StepChannel
	case "audience":
		return StepAudience
	case "message", "template", "vars", "text", "test_pct", "test_metric":
		return StepMessage
	}
	return StepSchedule
}

func warningKind(w string) string {
	switch w {
	case "over_daily_limit", "quality_low", "nobody":
		return "danger"
	case "limit_unknown":
		return "info"
	}
	return "warning"
}

func warningText(ctx context.Context, w string, r campaign.Report) string {
	switch w {
	case "over_daily_limit":
		if r.Spread {
			return ui.T(ctx, "campaigns.warning.over_daily_limit_spread", "over", num(ctx, r.OverLimit), "days", itoa(r.SpreadDays))
		}
		return ui.T(ctx, "campaigns.warning.over_daily_limit", "over", num(ctx, r.OverLimit), "remaining", num(ctx, r.Remaining))
	case "qr_daily_cap":
		return ui.T(ctx, "campaigns.warning.qr_daily_cap", "cap", num(ctx, r.DailyCap), "days", itoa(r.SpreadDays))
	}
	return ui.T(ctx, "campaigns.warning."+w)
}

func dailyLimit(ctx context.Context, n int64) string {
	switch {
	case n < 0:
		return ui.T(ctx, "campaigns.check.unlimited")
	case n == 0:
		return ui.T(ctx, "common.unknown")
	}
	return num(ctx, n)
}

func dupeName(name, address string) string {
	if name == "" {
		return address
	}
	return name + " (" + address + ")"
}

func priceInput(p store.Price) string {
	if p.Kind == "" {
		return ""
	}
	return price(p.Price)
}

func currencyOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func countryName(ctx context.Context, c string) string {
	if c == compose.OtherCountry {
		return ui.T(ctx, "campaigns.prices.other_countries")
	}
	return c
}

func categoryName(ctx context.Context, c string) string {
	if c == "" {
		return "—"
	}
	return ui.T(ctx, "campaigns.category."+c)
}

// checkKey is a check page's text, in a call campaign's words when it calls.
func checkKey(r campaign.Report, key string) string {
	if r.Kind == campaign.KindVoice {
		return strings.Replace(key, "campaigns.check.", "campaigns.call.check.", 1)
	}
	return key
}

// skipReasons are the reasons a launch can leave people out: a call has no variables.
func skipReasons(r campaign.Report) []string {
	if r.Kind != campaign.KindVoice {
		return model.SkipReasons
	}
	out := make([]string, 0, len(model.SkipReasons))
	for _, s := range model.SkipReasons {
		if s != model.SkipMissingVar {
			out = append(out, s)
		}
	}
	return out
}
