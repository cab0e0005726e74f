package bot

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"masteria/app/model"
)

// Why the bot handed a conversation over: the code before ": " in handover_reason (the
// detail after it is the keyword, the model's words or the provider's error).
const (
	ReasonTool         = "tool"          // the model called hand_over
	ReasonKeyword      = "keyword"       // the customer wrote a hand-over keyword
	ReasonNothingFound = "nothing_found" // the knowledge bases hold nothing on the question
	ReasonMaxTurns     = "max_turns"     // the persona's maximum of bot replies was reached
	ReasonBudget       = "budget"        // the org's monthly AI budget is spent
	ReasonProvider     = "provider"      // the AI provider failed (refused, rate limited, timed out)
	ReasonNoProvider   = "no_provider"   // the org has no AI provider
	ReasonRateLimit    = "rate_limit"    // too many bot replies in a minute: a loop with another bot
	ReasonAutomated    = "automated"     // the customer is an automatic reply, not a person
	ReasonWindow       = "window"        // WhatsApp's 24-hour window is closed
	ReasonNoPersona    = "no_persona"    // neither the conversation nor its channel has a persona
)

// Reason is the stored form of a hand-over's reason.
func Reason(code, detail string) string {
	detail = strings.Join(strings.Fields(detail), " ")
	if detail == "" {
		return code
	}
	return code + ": " + truncate(detail, 300)
}

// SplitReason reads a stored reason back into its code and detail.
func SplitReason(s string) (code, detail string) {
	code, detail, _ = strings.Cut(s, ": ")
	return code, detail
}

var nonWord = regexp.MustCompile(`[^\p{L}\p{N}]+`)

// keywordIn returns the first hand-over keyword the text holds as whole words ("quero um
// ATENDENTE!" holds "atendente"; "atendentes" does not), or "".
func keywordIn(text string, keywords []string) string {
	words := " " + strings.Join(nonWord.Split(model.Fold(text), -1), " ") + " "
	for _, k := range keywords {
		kw := strings.Join(nonWord.Split(model.Fold(k), -1), " ")
		if strings.TrimSpace(kw) != "" && strings.Contains(words, " "+strings.TrimSpace(kw)+" ") {
			return k
		}
	}
	return ""
}

// automatedPhrases are what auto-replies say of themselves (away messages, other bots).
var automatedPhrases = []string{
	"mensagem automatica", "resposta automatica", "esta e uma resposta automatica",
	"nao responda esta mensagem", "automatic reply", "auto-reply", "autoreply", "out of office",
	"this is an automated message", "do not reply to this message", "respuesta automatica",
	"mensaje automatico",
}

// automated tells whether messages come from an automatic sender rather than a person:
// they say so, or the same text came three times in a row.
func automated(msgs []string) bool {
	for _, m := range msgs {
		f := model.Fold(m)
		for _, p := range automatedPhrases {
			if strings.Contains(f, p) {
				return true
			}
		}
	}
	return false
}

// repeated tells whether the last n texts of the history are the same non-empty text.
func repeated(texts []string, n int) bool {
	if len(texts) < n {
		return false
	}
	last := model.Fold(strings.TrimSpace(texts[len(texts)-1]))
	if last == "" {
		return false
	}
	for _, t := range texts[len(texts)-n:] {
		if model.Fold(strings.TrimSpace(t)) != last {
			return false
		}
	}
	return true
}

// Hours are a persona's business hours: per weekday, ranges of "HH:MM".
type Hours map[string][][2]string

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// open tells whether people are at work at t (in the org's zone); no hours is always.
func (h Hours) open(t time.Time) bool {
	if len(h) == 0 {
		return true
	}
	now := t.Format("15:04")
	for _, r := range h[weekdays[t.Weekday()]] {
		if r[0] <= now && now < r[1] {
			return true
		}
	}
	return false
}

func hoursOf(p model.Persona) Hours {
	var h Hours
	if len(p.BusinessHours) > 0 {
		_ = json.Unmarshal(p.BusinessHours, &h) // validated when saved
	}
	return h
}

// words the bot says, by the persona's language.
type words struct {
	handOver, afterHours, nothingFound string
}

var wordsOf = map[string]words{
	"pt": {
		handOver:     "Vou chamar uma pessoa da nossa equipe para continuar o seu atendimento. Aguarde um instante, por favor.",
		afterHours:   "Nossa equipe está fora do horário de atendimento agora e responde assim que voltar.",
		nothingFound: "Não encontrei essa informação por aqui.",
	},
	"en": {
		handOver:     "I'm passing you to someone on our team who will carry on from here. Please hold on a moment.",
		afterHours:   "Our team is away right now and will answer as soon as they are back.",
		nothingFound: "I couldn't find that information here.",
	},
	"es": {
		handOver:     "Voy a pasarte con una persona de nuestro equipo para seguir con tu atención. Espera un momento, por favor.",
		afterHours:   "Nuestro equipo está fuera del horario de atención ahora y responderá en cuanto vuelva.",
		nothingFound: "No encontré esa información por aquí.",
	},
}

func wordsFor(lang string) words {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if w, ok := wordsOf[base]; ok {
		return w
	}
	return wordsOf["pt"]
}

// languageName is how the prompt names a persona's language.
func languageName(lang string) string {
	switch base, _, _ := strings.Cut(strings.ToLower(lang), "-"); base {
	case "en":
		return "English"
	case "es":
		return "Spanish"
	}
	return "Brazilian Portuguese"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
