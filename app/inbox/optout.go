package inbox

import (
	"encoding/json"
	"strings"

	"masteria/app/model"
)

// WhatsApp has no carrier-level STOP: the inbox recognises a customer's opt-out itself, from
// a message that is only an opt-out word, or from a tap on a template's opt-out quick reply
// button (Meta's "Stop promotions" marketing button, or a button whose payload says so).

// optOutWords are the whole messages that opt a WhatsApp customer out, read without case,
// accents or surrounding punctuation.
var optOutWords = map[string]bool{"PARAR": true, "SAIR": true, "STOP": true, "CANCELAR": true}

// optOutPayloads are the button payloads (and titles) that opt out: the words above, the
// payloads businesses give an opt-out button, and the title of Meta's marketing opt-out
// button in English and Portuguese.
var optOutPayloads = map[string]bool{
	"PARAR": true, "SAIR": true, "STOP": true, "CANCELAR": true,
	"OPT_OUT": true, "OPTOUT": true, "OPT-OUT": true, "UNSUBSCRIBE": true, "DESCADASTRAR": true,
	"STOP_PROMOTIONS": true, "STOP PROMOTIONS": true, "PARAR PROMOCOES": true, "PARAR_PROMOCOES": true,
}

// whatsAppOptOut tells whether an inbound WhatsApp message opts its sender out, and how:
// "keyword" (the message is an opt-out word) or "button" (an opt-out quick reply).
func whatsAppOptOut(in Inbound) (source string, ok bool) {
	switch in.Kind {
	case "text":
		if optOutWords[fold(in.Body)] {
			return "keyword", true
		}
	case "button": // a template's quick reply: {"payload": …, "text": …}
		var b struct{ Payload, Text string }
		_ = json.Unmarshal(in.Content, &b)
		if optOutPayloads[fold(b.Payload)] || optOutPayloads[fold(b.Text)] {
			return "button", true
		}
	case "interactive": // a reply button of an interactive message: {"button_reply": {"id", "title"}}
		var r struct {
			ButtonReply *struct{ ID, Title string } `json:"button_reply"`
		}
		_ = json.Unmarshal(in.Content, &r)
		if r.ButtonReply != nil && (optOutPayloads[fold(r.ButtonReply.ID)] || optOutPayloads[fold(r.ButtonReply.Title)]) {
			return "button", true
		}
	}
	return "", false
}

// fold is s in upper case without accents, surrounding spaces or punctuation.
func fold(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ".!?¡¿,;:\"'* ")
	if len(s) > 40 {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if f, ok := unaccent[r]; ok {
			return f
		}
		return r
	}, strings.ToUpper(s))
}

var unaccent = map[rune]rune{
	'Á': 'A', 'À': 'A', 'Â': 'A', 'Ã': 'A', 'Ä': 'A', 'É': 'E', 'È': 'E', 'Ê': 'E', 'Ë': 'E',
	'Í': 'I', 'Ì': 'I', 'Î': 'I', 'Ï': 'I', 'Ó': 'O', 'Ò': 'O', 'Ô': 'O', 'Õ': 'O', 'Ö': 'O',
	'Ú': 'U', 'Ù': 'U', 'Û': 'U', 'Ü': 'U', 'Ç': 'C', 'Ñ': 'N',
}

// optOutKeyword is the Keyword of an inbound message: the channel's (an SMS STOP or START),
// else a WhatsApp opt-out the inbox recognises, with where it came from.
func optOutKeyword(ch model.Channel, in Inbound) (keyword, source string) {
	if in.Keyword != "" {
		return in.Keyword, "keyword"
	}
	if ch.OptOutKind() == model.ChannelWhatsApp {
		if src, ok := whatsAppOptOut(in); ok {
			return "stop", src
		}
	}
	return "", ""
}
