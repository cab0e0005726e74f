package inbox

// AssistView is what the composer's agent assist answered, shown in the panel under the
// message box: a summary, or the suggestion or rewrite that filled the box (with the
// passages it came from and the text it replaced), or what went wrong.
type AssistView struct {
	Action       string   // summary, suggest or rewrite
	Bullets      []string // the summary
	Messages     int      // how many messages the summary read
	Text         string   // what fills the message box
	Previous     string   // the text that was in the box before
	Sources      []AssistSource
	NothingFound bool   // no passage of the knowledge bases matched
	Error        string // i18n key of what went wrong
	Detail       string // the provider's own words, for a refusal
	Settings     bool   // link to Settings → AI (for those who may change it)
}

// AssistSource is a knowledge-base passage a suggestion came from.
type AssistSource struct {
	N       int
	Title   string
	Heading string
	Text    string
}

// assistStyles are the rewrite menu's entries: the style sent and its label's key.
var assistStyles = []struct{ Style, Key string }{
	{"shorter", "assist.style.shorter"},
	{"friendlier", "assist.style.friendlier"},
	{"grammar", "assist.style.grammar"},
}

// assistLanguages are the translate entries: the style sent and the language's own name.
var assistLanguages = []struct{ Style, Name string }{
	{"translate-en", "English"},
	{"translate-pt", "Português"},
	{"translate-es", "Español"},
}
