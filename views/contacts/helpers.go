package contacts

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

// ---- sort ----

// sortChoice is one order of the list as the sort menu offers it: its ?sort= value and
// label. What each value means is model.ContactSorts.
type sortChoice struct{ Value, Key string }

var sortChoices = func() []sortChoice {
	out := make([]sortChoice, len(model.ContactSorts))
	for i, s := range model.ContactSorts {
		out[i] = sortChoice{s.Value, "contacts.sort." + s.Value}
	}
	return out
}()

// SortValue is the ?sort= of s; the zero sort is newest.
func SortValue(s model.ContactSort) string { return s.Value() }

// ---- URLs of the list ----

// query is the list's URL query without the cursor: the filter, the sort when it is not
// the default, and the open segment (the handler loads its filter; the filter's own values
// are there too, so the link works either way).
func (d ListData) query() url.Values {
	q := d.Filter.Values()
	if v := SortValue(d.Sort); v != sortChoices[0].Value {
		q.Set("sort", v)
	}
	if d.SegmentID > 0 {
		q.Set("segment", id(d.SegmentID))
	}
	return q
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// listURL is this view of the list, first page.
func listURL(ctx context.Context, d ListData) string {
	return withQuery(ui.OrgURL(ctx, "/contacts"), d.query())
}

// nextURL is the next page of this view.
func nextURL(ctx context.Context, d ListData) string {
	q := d.query()
	q.Set("after", d.Next)
	return withQuery(ui.OrgURL(ctx, "/contacts"), q)
}

// backQuery is "?"+the list's query, or "" for the plain list.
func backQuery(d ListData) string {
	if q := d.query(); len(q) > 0 {
		return "?" + q.Encode()
	}
	return ""
}

// exportURL downloads what the list shows, as CSV.
func exportURL(ctx context.Context, d ListData) string {
	q := d.Filter.Values()
	if v := SortValue(d.Sort); v != sortChoices[0].Value {
		q.Set("sort", v)
	}
	return withQuery(ui.OrgURL(ctx, "/contacts/export.csv"), q)
}

// hidden is one hidden form field.
type hidden struct{ Name, Value string }

// filterFields writes a filter as hidden fields, in a stable order.
func filterFields(f model.ContactFilter) []hidden {
	q := f.Values()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []hidden
	for _, k := range keys {
		for _, v := range q[k] {
			out = append(out, hidden{k, v})
		}
	}
	return out
}

// filtered tells whether the list shows less than everything.
func (d ListData) filtered() bool { return !d.Filter.Empty() || d.SegmentID > 0 }

// activeFilters counts the filters set besides the search, for the "Filters" button.
func (d ListData) activeFilters() int {
	f := d.Filter
	n := len(f.TagIDs)
	for _, on := range []bool{f.Owner != "", f.OptedOut != "", f.CreatedFrom != nil, f.CreatedTo != nil} {
		if on {
			n++
		}
	}
	return n
}

// ---- tags ----

func tagClass(color string) string {
	if slices.Contains(model.TagColors, color) {
		return "tag tag-" + color
	}
	return "tag tag-gray"
}

func tagsByID(tags []model.Tag) map[int64]model.Tag {
	m := make(map[int64]model.Tag, len(tags))
	for _, t := range tags {
		m[t.ID] = t
	}
	return m
}

// contactTags are the contact's tags in the org's order; unknown ids are skipped.
func contactTags(ids []int64, tags []model.Tag) []model.Tag {
	var out []model.Tag
	for _, t := range tags {
		if slices.Contains(ids, t.ID) {
			out = append(out, t)
		}
	}
	return out
}

// colorKeys name the tag colours.
var colorKeys = map[string]string{
	"gray": "contacts.color.gray", "red": "contacts.color.red", "orange": "contacts.color.orange",
	"yellow": "contacts.color.yellow", "green": "contacts.color.green", "teal": "contacts.color.teal",
	"blue": "contacts.color.blue", "purple": "contacts.color.purple", "pink": "contacts.color.pink",
}

func colorName(ctx context.Context, c string) string {
	if k, ok := colorKeys[c]; ok {
		return ui.T(ctx, k)
	}
	return c
}

// ---- contacts ----

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// phoneText is the phone for people, falling back to the stored number.
func phoneText(display string, p *string) string {
	if display != "" {
		return display
	}
	return str(p)
}

// sendChannels are the channels a message can go through (not disconnected), by name.
func sendChannels(chs map[int64]model.Channel) []model.Channel {
	var out []model.Channel
	for _, ch := range chs {
		if ch.Status != model.ChannelDisconnected {
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b model.Channel) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// openConversations are the conversations not resolved yet.
func openConversations(list []model.Conversation) []model.Conversation {
	var out []model.Conversation
	for _, c := range list {
		if c.Status != "closed" {
			out = append(out, c)
		}
	}
	return out
}

// messageText is a timeline message's text, or its kind in brackets for a file.
func messageText(m TimelineMessage) string {
	if m.Body == "" {
		return "[" + m.Kind + "]"
	}
	return m.Body
}

// channelKeys name the channel kinds a contact may opt out of.
var channelKeys = map[string]string{
	model.ChannelWhatsApp: "contacts.channel.whatsapp",
	model.ChannelSMS:      "contacts.channel.sms",
	model.ChannelVoice:    "contacts.channel.voice",
}

func channelName(ctx context.Context, kind string) string {
	if k, ok := channelKeys[kind]; ok {
		return ui.T(ctx, k)
	}
	return kind
}

var optOutKeys = map[string]string{
	model.ChannelWhatsApp: "contacts.form.opt_out.whatsapp",
	model.ChannelSMS:      "contacts.form.opt_out.sms",
	model.ChannelVoice:    "contacts.form.opt_out.voice",
}

func optOutLabel(ctx context.Context, kind string) string {
	if k, ok := optOutKeys[kind]; ok {
		return ui.T(ctx, k)
	}
	return kind
}

func ownerName(ctx context.Context, c model.Contact) string {
	if c.OwnerID == nil {
		return ""
	}
	if n := str(c.OwnerName); n != "" {
		return n
	}
	return ui.T(ctx, "contacts.owner.former")
}

// attrs reads a contact's custom values as text, keyed by field key.
func attrs(raw json.RawMessage) map[string]string {
	out := map[string]string{}
	if len(raw) == 0 {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return out
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}

// FormValuesOf fills the edit form from a stored contact; phone is the number written for
// people (or "" for the stored E.164).
func FormValuesOf(c model.Contact, phone string) FormValues {
	v := FormValues{
		Name:     c.Name,
		Phone:    phoneText(phone, c.Phone),
		Email:    str(c.Email),
		TagIDs:   c.TagIDs,
		OptedOut: c.OptedOut,
		Attrs:    attrs(c.Attributes),
	}
	if c.OwnerID != nil {
		v.OwnerID = *c.OwnerID
	}
	return v
}

// fieldValue writes a custom value for reading: dates in the reader's format, numbers
// with the reader's separators, the rest as stored.
func fieldValue(ctx context.Context, f model.ContactField, v string) string {
	switch f.Type {
	case model.FieldDate:
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return ui.Date(ctx, t)
		}
	case model.FieldNumber:
		return formatNumber(ui.From(ctx).Locale, v)
	}
	return v
}

// formatNumber writes "1234567.5" as 1,234,567.5 or 1.234.567,5; text that is no number stays.
func formatNumber(l i18n.Locale, s string) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1e15 {
		return s
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	whole, frac, _ := strings.Cut(strconv.FormatFloat(f, 'f', -1, 64), ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := sign + i18n.FormatInt(l, n)
	if frac != "" {
		sep := "."
		if l == i18n.PTBR {
			sep = ","
		}
		out += sep + frac
	}
	return out
}

var fieldTypeKeys = map[string]string{
	model.FieldText:   "contacts.field_type.text",
	model.FieldNumber: "contacts.field_type.number",
	model.FieldDate:   "contacts.field_type.date",
	model.FieldChoice: "contacts.field_type.choice",
}

var fieldTypes = []string{model.FieldText, model.FieldNumber, model.FieldDate, model.FieldChoice}

func fieldTypeName(ctx context.Context, t string) string {
	if k, ok := fieldTypeKeys[t]; ok {
		return ui.T(ctx, k)
	}
	return t
}

func fieldLabel(fields []model.ContactField, key string) string {
	for _, f := range fields {
		if f.Key == key {
			return f.Label
		}
	}
	return key
}

// ---- timeline ----

// callOf reads a timeline line of a voice call (the call's row as JSON).
func callOf(e model.ContactEvent) model.Call {
	var c model.Call
	_ = json.Unmarshal(e.Data, &c)
	c.ID = e.ID
	return c
}

func eventData(e model.ContactEvent) EventData {
	var d EventData
	_ = json.Unmarshal(e.Data, &d)
	return d
}

var eventIcons = map[string]string{
	"created": "plus", "updated": "refresh", "tagged": "check", "untagged": "x",
	"owner_changed": "user", "opted_out": "lock", "opted_in": "check",
	"imported": "upload", "import_updated": "upload", "stage_changed": "kanban",
	"conversation": "message", "note": "mail",
	"merged": "users", "lead_created": "kanban", "campaign": "megaphone", "call": "smartphone",
}

// mergedName names the contact a merge took in: its name, else its phone.
func mergedName(ctx context.Context, ed EventData) string {
	switch {
	case ed.OtherName != "":
		return ed.OtherName
	case ed.OtherPhone != "":
		return ed.OtherPhone
	}
	return ui.T(ctx, "contacts.no_name")
}

func eventIcon(kind string) string {
	if i, ok := eventIcons[kind]; ok {
		return i
	}
	switch {
	case strings.HasPrefix(kind, "message"):
		return "message"
	case strings.HasPrefix(kind, "call"):
		return "smartphone"
	}
	return "clock"
}

// changedFields names what an update changed: "name, phone and Birthday".
func changedFields(ctx context.Context, names []string, fields []model.ContactField) string {
	var out []string
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "attr."):
			out = append(out, fieldLabel(fields, strings.TrimPrefix(n, "attr.")))
		default:
			if k, ok := changedKeys[n]; ok {
				out = append(out, ui.T(ctx, k))
			} else {
				out = append(out, n)
			}
		}
	}
	switch len(out) {
	case 0:
		return ""
	case 1:
		return out[0]
	}
	return ui.T(ctx, "contacts.list_and", "items", strings.Join(out[:len(out)-1], ", "), "last", out[len(out)-1])
}

var changedKeys = map[string]string{
	"name": "contacts.changed.name", "phone": "contacts.changed.phone", "email": "contacts.changed.email",
	"owner": "contacts.changed.owner", "tags": "contacts.changed.tags", "opted_out": "contacts.changed.opted_out",
	"attributes": "contacts.changed.attributes",
}

// actorName is who did it, or "Master IA" for what the app did by itself.
func actorName(ctx context.Context, e model.ContactEvent) string {
	if n := str(e.ActorName); n != "" {
		return n
	}
	if e.ActorID != nil {
		return ui.T(ctx, "contacts.owner.former")
	}
	return ui.T(ctx, "contacts.event.system")
}

// ---- import ----

var statusKinds = map[string]string{
	"pending": "neutral", "queued": "info", "running": "info", "done": "success", "failed": "danger",
}

var statusKeys = map[string]string{
	"pending": "contacts.import.status.pending", "queued": "contacts.import.status.queued",
	"running": "contacts.import.status.running", "done": "contacts.import.status.done",
	"failed": "contacts.import.status.failed",
}

func statusKind(s string) string {
	if k, ok := statusKinds[s]; ok {
		return k
	}
	return "neutral"
}

func statusName(ctx context.Context, s string) string {
	if k, ok := statusKeys[s]; ok {
		return ui.T(ctx, k)
	}
	return s
}

func importActive(im model.ContactImport) bool {
	return im.Status == "queued" || im.Status == "running"
}

// RejectKey is model.RejectKey: a rejected row's reason as an i18n key and its arguments.
func RejectKey(code string, fields []model.ContactField) (key string, args []string) {
	return model.RejectKey(code, fields)
}

func rejectText(ctx context.Context, code string, fields []model.ContactField) string {
	k, args := RejectKey(code, fields)
	return ui.T(ctx, k, args...)
}

// importErrorKeys are the i18n keys a failed import may keep as its error.
var importErrorKeys = map[string]bool{
	"contacts.import.error.empty":      true,
	"contacts.import.error.not_csv":    true,
	"contacts.import.error.no_columns": true,
	"contacts.import.error.unreadable": true,
	"contacts.import.error.too_large":  true,
}

// importError is a failed import's error for people: a known key translated, else a
// general sentence (and the text itself is shown under it as detail).
func importError(ctx context.Context, e string) (text string, known bool) {
	if importErrorKeys[e] {
		return ui.T(ctx, e), true
	}
	return ui.T(ctx, "contacts.import.failed_generic"), false
}

// targetChoice is an option of a column's target select.
type targetChoice struct{ Value, Label string }

func targets(ctx context.Context, fields []model.ContactField) []targetChoice {
	out := []targetChoice{
		{TargetIgnore, ui.T(ctx, "contacts.import.target.ignore")},
		{TargetName, ui.T(ctx, "contacts.import.target.name")},
		{TargetFirstName, ui.T(ctx, "contacts.import.target.first_name")},
		{TargetLastName, ui.T(ctx, "contacts.import.target.last_name")},
		{TargetPhone, ui.T(ctx, "contacts.import.target.phone")},
		{TargetEmail, ui.T(ctx, "contacts.import.target.email")},
		{TargetTags, ui.T(ctx, "contacts.import.target.tags")},
		{TargetOwner, ui.T(ctx, "contacts.import.target.owner")},
		{TargetOptedOut, ui.T(ctx, "contacts.import.target.opted_out")},
	}
	for _, f := range fields {
		out = append(out, targetChoice{"custom:" + f.Key, ui.T(ctx, "contacts.import.target.custom", "label", f.Label)})
	}
	return out
}

func targetOr(t string) string {
	if t == "" {
		return TargetIgnore
	}
	return t
}

var delimiterKeys = map[string]string{
	",": "contacts.import.delimiter.comma", ";": "contacts.import.delimiter.semicolon",
	"\t": "contacts.import.delimiter.tab", "|": "contacts.import.delimiter.pipe",
}

func delimiterName(ctx context.Context, d string) string {
	if k, ok := delimiterKeys[d]; ok {
		return ui.T(ctx, k)
	}
	return d
}

var encodingNames = map[string]string{
	"utf-8": "UTF-8", "utf-16le": "UTF-16", "utf-16be": "UTF-16", "windows-1252": "Windows-1252 (Excel)",
}

func encodingName(e string) string {
	if n, ok := encodingNames[e]; ok {
		return n
	}
	return e
}

func maxMB(n int) string {
	if n <= 0 {
		n = 20
	}
	return strconv.Itoa(n)
}

func num(ctx context.Context, n int) string {
	return i18n.FormatInt(ui.From(ctx).Locale, int64(n))
}

func num64(ctx context.Context, n int64) string {
	return i18n.FormatInt(ui.From(ctx).Locale, n)
}

// percent is how far an import has got, 0-100, for the label beside the bar.
func percent(im model.ContactImport) string {
	if im.Total <= 0 {
		return "0"
	}
	p := im.Processed * 100 / im.Total
	return strconv.Itoa(min(max(p, 0), 100))
}

// hasErrors tells whether a form has any error to show.
func hasErrors(m map[string]string) bool {
	for _, v := range m {
		if v != "" {
			return true
		}
	}
	return false
}

func errAttrs(a templ.Attributes, id, errKey string) templ.Attributes {
	if errKey != "" {
		a["aria-invalid"] = "true"
		a["aria-describedby"] = id + "-error"
	}
	return a
}

// ---- filter bar ----

// optOutFilters are the choices of the opt-out filter (?opted_out=).
var optOutFilters = []struct{ Value, Key string }{
	{"", "contacts.filters.opted_out_all"},
	{"none", "contacts.filters.opted_out_none"},
	{"any", "contacts.filters.opted_out_any"},
	{model.ChannelWhatsApp, "contacts.filters.opted_out_whatsapp"},
	{model.ChannelSMS, "contacts.filters.opted_out_sms"},
	{model.ChannelVoice, "contacts.filters.opted_out_voice"},
}

func hasID(ids []int64, n int64) bool { return slices.Contains(ids, n) }

func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}

func tagName(tags []model.Tag, tagID int64) string {
	for _, t := range tags {
		if t.ID == tagID {
			return t.Name
		}
	}
	return "#" + id(tagID)
}

// optedOutList names the channels a contact refused: "WhatsApp, SMS".
func optedOutList(ctx context.Context, kinds []string) string {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		names = append(names, channelName(ctx, k))
	}
	return ui.T(ctx, "contacts.opted_out_of", "channels", strings.Join(names, ", "))
}

// ---- contact page ----

func showURL(ctx context.Context, d ShowData) string {
	u := ui.OrgURL(ctx, "/contacts/"+id(d.Contact.ID))
	if d.Before != "" {
		u += "?before=" + d.Before
	}
	return u
}

// subtitle is the line under the contact's name: the phone and email not already in it.
func subtitle(d ShowData) string {
	var parts []string
	if strings.TrimSpace(d.Contact.Name) == "" {
		return ""
	}
	if p := phoneText(d.PhoneDisplay, d.Contact.Phone); p != "" {
		parts = append(parts, p)
	}
	if e := str(d.Contact.Email); e != "" {
		parts = append(parts, e)
	}
	return strings.Join(parts, " · ")
}

// eventTag is the tag of a tagged/untagged line: as it is now, or as it was named then.
func eventTag(ed EventData, tags []model.Tag) model.Tag {
	for _, t := range tags {
		if t.ID == ed.TagID && ed.TagID != 0 {
			return t
		}
	}
	return model.Tag{Name: ed.TagName, Color: "gray"}
}

func ownerOr(ctx context.Context, name string) string {
	if name != "" {
		return name
	}
	return ui.T(ctx, "contacts.owner.former")
}

func fileOr(ctx context.Context, name string) string {
	if name != "" {
		return name
	}
	return ui.T(ctx, "contacts.import.a_file")
}

// ---- form ----

func formTitle(ctx context.Context, d FormData) string {
	if d.ID > 0 {
		return ui.T(ctx, "contacts.form.edit_title")
	}
	return ui.T(ctx, "contacts.form.new_title")
}

func formAction(ctx context.Context, d FormData) string {
	if d.ID > 0 {
		return ui.OrgURL(ctx, "/contacts/"+id(d.ID))
	}
	return ui.OrgURL(ctx, "/contacts")
}

func formBack(ctx context.Context, d FormData) string {
	if d.ID > 0 {
		return ui.OrgURL(ctx, "/contacts/"+id(d.ID))
	}
	return ui.OrgURL(ctx, "/contacts")
}

// bannerKey is the message over a form with errors: its own ("" or "form" key) or the
// general "check the fields below".
func bannerKey(errs map[string]string) string {
	for _, k := range []string{"", "form"} {
		if errs[k] != "" {
			return errs[k]
		}
	}
	return "form.fix_errors"
}

// knownColumns are the column names the import recognizes, shown on the upload page.
var knownColumns = []struct{ Label, Aliases string }{
	{"contacts.import.target.name", "contacts.import.aliases.name"},
	{"contacts.import.target.first_name", "contacts.import.aliases.first_name"},
	{"contacts.import.target.last_name", "contacts.import.aliases.last_name"},
	{"contacts.import.target.phone", "contacts.import.aliases.phone"},
	{"contacts.import.target.email", "contacts.import.aliases.email"},
	{"contacts.import.target.tags", "contacts.import.aliases.tags"},
	{"contacts.import.target.owner", "contacts.import.aliases.owner"},
	{"contacts.import.target.opted_out", "contacts.import.aliases.opted_out"},
}

// columnName is a column's header, or "Column 3" when the header cell is blank.
func columnName(ctx context.Context, header string, i int) string {
	if strings.TrimSpace(header) != "" {
		return header
	}
	return ui.T(ctx, "contacts.import.column_n", "n", strconv.Itoa(i+1))
}

func rejectedKind(n int) string {
	if n > 0 {
		return "danger"
	}
	return "neutral"
}

// ---- manage ----

func colorOr(c string) string {
	if slices.Contains(model.TagColors, c) {
		return c
	}
	return "gray"
}

func typeOr(t string) string {
	if _, ok := fieldTypeKeys[t]; ok {
		return t
	}
	return model.FieldText
}

// attrOps are the custom field comparisons the filter bar offers.
var attrOps = []string{"eq", "ne", "contains", "gt", "lt", "set", "unset"}

// firstAttr is the field condition shown in the filter bar (more can come in the URL).
func firstAttr(f model.ContactFilter) model.AttrCond {
	if len(f.Attrs) == 0 {
		return model.AttrCond{Op: "eq"}
	}
	return f.Attrs[0]
}
