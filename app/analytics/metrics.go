package analytics

// Unit is how a figure is measured and shown.
type Unit string

const (
	Count   Unit = "count"   // a number of things
	Ratio   Unit = "ratio"   // 0..1, shown as a percentage
	Seconds Unit = "seconds" // a duration
	Cents   Unit = "cents"   // money in the org's currency, in cents
)

// Drill is the kind of list behind a figure: what a click on it opens.
type Drill string

const (
	NoDrill       Drill = ""
	Messages      Drill = "messages"
	Conversations Drill = "conversations"
	Leads         Drill = "leads"
	Recipients    Drill = "recipients" // campaign recipients
	Enrolments    Drill = "enrolments" // cadence enrolments
	Calls         Drill = "calls"
)

// Definition is one metric: its stable key (API, CSV, i18n), its unit, its family (the
// part of the engine that computes it) and the list a click opens. Its name and its written
// definition are the i18n keys analytics.metric.<key>.name and analytics.metric.<key>.about.
type Definition struct {
	Key    string
	Unit   Unit
	Family string
	Drill  Drill
	// Now is true for a figure of the present moment (open conversations), which a period
	// does not change and which has no previous period.
	Now bool
	// Currency is the currency of a money figure that is always in one, whatever the org's
	// (the AI provider's and Retell's costs are in US dollars); "" for the org's.
	Currency string
}

// CurrencyOf is the currency metric's money is shown in: its own, else orgs.
func CurrencyOf(metric, orgs string) string {
	if d, ok := DefinitionOf(metric); ok && d.Currency != "" {
		return d.Currency
	}
	return orgs
}

// Definitions are every metric of the engine, in the order the definitions page lists them.
var Definitions = []Definition{
	// Messages: outbound by their status now, counted in the period they were sent in.
	{Key: "messages.sent", Unit: Count, Family: "messages", Drill: Messages},
	{Key: "messages.delivered", Unit: Count, Family: "messages", Drill: Messages},
	{Key: "messages.read", Unit: Count, Family: "messages", Drill: Messages},
	{Key: "messages.failed", Unit: Count, Family: "messages", Drill: Messages},
	{Key: "messages.delivery_rate", Unit: Ratio, Family: "messages", Drill: Messages},
	{Key: "messages.read_rate", Unit: Ratio, Family: "messages", Drill: Messages},
	{Key: "messages.failure_rate", Unit: Ratio, Family: "messages", Drill: Messages},
	{Key: "messages.inbound", Unit: Count, Family: "messages", Drill: Messages},

	// Conversations: response and resolution by people only.
	{Key: "conversations.started", Unit: Count, Family: "conversations", Drill: Conversations},
	{Key: "conversations.resolved", Unit: Count, Family: "conversations", Drill: Conversations},
	{Key: "response.first_median", Unit: Seconds, Family: "conversations", Drill: Conversations},
	{Key: "response.first_p90", Unit: Seconds, Family: "conversations", Drill: Conversations},
	{Key: "response.within_target", Unit: Ratio, Family: "conversations", Drill: Conversations},
	{Key: "resolution.median", Unit: Seconds, Family: "conversations", Drill: Conversations},
	{Key: "resolution.p90", Unit: Seconds, Family: "conversations", Drill: Conversations},
	{Key: "conversations.open", Unit: Count, Family: "conversations", Drill: Conversations, Now: true},
	{Key: "conversations.waiting", Unit: Count, Family: "conversations", Drill: Conversations, Now: true},
	{Key: "conversations.unassigned", Unit: Count, Family: "conversations", Drill: Conversations, Now: true},
	{Key: "agent.replies", Unit: Count, Family: "conversations", Drill: Messages},

	// AI: conversations a bot took part in.
	{Key: "ai.conversations", Unit: Count, Family: "conversations", Drill: Conversations},
	{Key: "ai.resolved", Unit: Count, Family: "conversations", Drill: Conversations},
	{Key: "ai.share", Unit: Ratio, Family: "conversations", Drill: Conversations},
	{Key: "ai.handovers", Unit: Count, Family: "conversations", Drill: Conversations},
	{Key: "ai.cost", Unit: Cents, Family: "conversations", Drill: Conversations, Currency: "USD"},
	{Key: "ai.cost_per_resolved", Unit: Cents, Family: "conversations", Drill: Conversations, Currency: "USD"},

	// Leads and the board.
	{Key: "leads.created", Unit: Count, Family: "leads", Drill: Leads},
	{Key: "leads.won", Unit: Count, Family: "leads", Drill: Leads},
	{Key: "leads.lost", Unit: Count, Family: "leads", Drill: Leads},
	{Key: "leads.won_value", Unit: Cents, Family: "leads", Drill: Leads},
	{Key: "leads.win_rate", Unit: Ratio, Family: "leads", Drill: Leads},
	{Key: "leads.stage_conversion", Unit: Ratio, Family: "leads", Drill: Leads},

	// The campaign funnel: recipients of campaigns launched in the period.
	{Key: "campaign.sent", Unit: Count, Family: "campaigns", Drill: Recipients},
	{Key: "campaign.delivered", Unit: Count, Family: "campaigns", Drill: Recipients},
	{Key: "campaign.read", Unit: Count, Family: "campaigns", Drill: Recipients},
	{Key: "campaign.replied", Unit: Count, Family: "campaigns", Drill: Recipients},
	{Key: "campaign.lead", Unit: Count, Family: "campaigns", Drill: Recipients},
	{Key: "campaign.won", Unit: Count, Family: "campaigns", Drill: Recipients},

	// The cadence funnel: enrolments that began in the period.
	{Key: "cadence.enrolled", Unit: Count, Family: "cadences", Drill: Enrolments},
	{Key: "cadence.replied", Unit: Count, Family: "cadences", Drill: Enrolments},
	{Key: "cadence.completed", Unit: Count, Family: "cadences", Drill: Enrolments},
	{Key: "cadence.exited", Unit: Count, Family: "cadences", Drill: Enrolments},

	// Voice, as the voice pages count it.
	{Key: "calls.total", Unit: Count, Family: "calls", Drill: Calls},
	{Key: "calls.answered", Unit: Count, Family: "calls", Drill: Calls},
	{Key: "calls.answer_rate", Unit: Ratio, Family: "calls", Drill: Calls},
	{Key: "calls.duration_avg", Unit: Seconds, Family: "calls", Drill: Calls},
	{Key: "calls.successful", Unit: Count, Family: "calls", Drill: Calls},
	{Key: "calls.cost", Unit: Cents, Family: "calls", Drill: Calls, Currency: "USD"},
}

// DefinitionOf is the definition of a metric key.
func DefinitionOf(key string) (Definition, bool) {
	for _, d := range Definitions {
		if d.Key == key {
			return d, true
		}
	}
	return Definition{}, false
}
