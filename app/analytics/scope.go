package analytics

// Each family follows only the filters that mean something for its figures (a lead has no
// channel, a cadence enrolment no label…) and leaves the others aside. A figure says so:
// Ignored is the filters in force that it does not follow, so a page and an API answer can
// tell the reader that a figure was not narrowed by them. Each family declares what it
// follows beside its code (messagesNarrows, conversationsNarrows, leadsNarrows,
// campaignsNarrows, cadencesNarrows, callsNarrows); TestFiltersNarrowAsDeclared checks each
// declaration against the figures.

// The filters' stable names, as the API's ignored_filters and the pages name them.
const (
	FilterChannel       = "channel"
	FilterAgent         = "agent"
	FilterCampaign      = "campaign"
	FilterPipeline      = "pipeline"
	FilterLabel         = "label"
	FilterBusinessHours = "business_hours"
)

// FilterNames are every filter's name, in the order the filter bar shows them.
var FilterNames = []string{FilterChannel, FilterAgent, FilterCampaign, FilterPipeline, FilterLabel, FilterBusinessHours}

// familyNarrows are, per family, the filters that narrow every figure of it.
var familyNarrows = map[string][]string{
	"messages":      messagesNarrows,
	"conversations": conversationsNarrows,
	"leads":         leadsNarrows,
	"campaigns":     campaignsNarrows,
	"cadences":      cadencesNarrows,
	"calls":         callsNarrows,
}

// InForce are the names of the filters f narrows by (its period aside), in FilterNames order.
func (f Filter) InForce() []string {
	var out []string
	for _, n := range FilterNames {
		if f.has(n) {
			out = append(out, n)
		}
	}
	return out
}

// has tells whether the filter of name is in force in f.
func (f Filter) has(name string) bool {
	switch name {
	case FilterChannel:
		return f.ChannelID != 0
	case FilterAgent:
		return f.AgentID != 0
	case FilterCampaign:
		return f.CampaignID != 0
	case FilterPipeline:
		return f.PipelineID != 0
	case FilterLabel:
		return f.Label != ""
	case FilterBusinessHours:
		return f.BusinessHours
	}
	return false
}

// NarrowedBy are the filters that change metric key's figures, in FilterNames order:
// its family's, and business hours for the times measured in them (businessHoursKeys).
func NarrowedBy(key string) []string {
	d, ok := DefinitionOf(key)
	if !ok {
		return nil
	}
	var out []string
	for _, n := range FilterNames {
		if follows(d, n) {
			out = append(out, n)
		}
	}
	return out
}

// follows tells whether the filter of name changes the figures of d.
func follows(d Definition, name string) bool {
	if name == FilterBusinessHours {
		return businessHoursKeys[d.Key]
	}
	for _, n := range familyNarrows[d.Family] {
		if n == name {
			return true
		}
	}
	return false
}

// Ignored are the filters in force in f that metric key's figures do not follow (nil when
// none). Business hours are no narrowing but a way of measuring time: they are named only
// for a time (unit seconds) that is not measured in them, such as a call's duration.
func Ignored(key string, f Filter) []string {
	d, ok := DefinitionOf(key)
	if !ok {
		return nil
	}
	var out []string
	for _, n := range f.InForce() {
		if follows(d, n) || (n == FilterBusinessHours && d.Unit != Seconds) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// TableIgnores are the filters in force in f that the table of name does not follow (see
// Tables). No table has a time that business hours leave aside (the agents table's times
// are measured in them), so they are never named.
func TableIgnores(name string, f Filter) []string {
	return familyIgnores(Tables[name], f)
}

// FunnelIgnores are the filters in force in f that the funnel of name does not follow (see
// Funnels); a funnel is counts only, so business hours are never named.
func FunnelIgnores(name string, f Filter) []string {
	return familyIgnores(Funnels[name], f)
}

func familyIgnores(family string, f Filter) []string {
	if _, ok := familyNarrows[family]; !ok {
		return nil
	}
	var out []string
	for _, n := range f.InForce() {
		if n == FilterBusinessHours {
			continue
		}
		if !follows(Definition{Family: family}, n) {
			out = append(out, n)
		}
	}
	return out
}
