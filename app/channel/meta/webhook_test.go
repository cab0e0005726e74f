package meta

import (
	"encoding/json"
	"strings"
	"testing"

	"masteria/app/channel"
)

// envelopeOf wraps messages or statuses the way Meta's "messages" webhook does.
func envelopeOf(value string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},` +
		value + `},"field":"messages"}]}]}`)
}

const contacts = `"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],`

func TestParseEveryInboundType(t *testing.T) {
	cases := []struct {
		name, msg, typ, body string
	}{
		{"text", `{"from":"16505551234","id":"wamid.1","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}`, "text", "Does it come in another color?"},
		{"image", `{"from":"16505551234","id":"wamid.2","timestamp":"1749416383","type":"image","image":{"caption":"Look","mime_type":"image/jpeg","sha256":"abc","id":"1003383421387256"}}`, "image", "Look"},
		{"audio", `{"from":"16505551234","id":"wamid.3","timestamp":"1749416383","type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"x","id":"3","voice":true}}`, "audio", ""},
		{"video", `{"from":"16505551234","id":"wamid.4","timestamp":"1749416383","type":"video","video":{"caption":"Vídeo","mime_type":"video/mp4","sha256":"x","id":"4"}}`, "video", "Vídeo"},
		{"document", `{"from":"16505551234","id":"wamid.5","timestamp":"1749416383","type":"document","document":{"caption":"Nota","filename":"nota.pdf","mime_type":"application/pdf","sha256":"x","id":"5"}}`, "document", "Nota"},
		{"sticker", `{"from":"16505551234","id":"wamid.6","timestamp":"1749416383","type":"sticker","sticker":{"mime_type":"image/webp","sha256":"x","id":"6","animated":false}}`, "sticker", ""},
		{"location", `{"from":"16505551234","id":"wamid.7","timestamp":"1749416383","type":"location","location":{"address":"Av. Paulista, 1000","latitude":-23.56,"longitude":-46.65,"name":"Loja"}}`, "location", ""},
		{"contacts", `{"from":"16505551234","id":"wamid.8","timestamp":"1749416383","type":"contacts","contacts":[{"name":{"formatted_name":"Ana"},"phones":[{"phone":"+55 11 98765-4321","type":"CELL","wa_id":"5511987654321"}]}]}`, "contacts", ""},
		{"button reply", `{"from":"16505551234","id":"wamid.9","timestamp":"1749416383","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Sim, quero"}}}`, "interactive", "Sim, quero"},
		{"list reply", `{"from":"16505551234","id":"wamid.10","timestamp":"1749416383","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"p","title":"Pizza","description":"Grande"}}}`, "interactive", "Pizza"},
		{"template button", `{"from":"16505551234","id":"wamid.11","timestamp":"1749416383","type":"button","button":{"payload":"STOP","text":"Parar promoções"}}`, "button", "Parar promoções"},
		{"reaction", `{"from":"16505551234","id":"wamid.12","timestamp":"1749416383","type":"reaction","reaction":{"message_id":"wamid.out","emoji":"👍"}}`, "reaction", "👍"},
		{"unsupported", `{"from":"16505551234","id":"wamid.13","timestamp":"1749416383","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown"}]}`, "unsupported", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse(envelopeOf(contacts + `"messages":[` + tc.msg + `]`))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages) != 1 {
				t.Fatalf("%d messages", len(b.Messages))
			}
			m := b.Messages[0]
			if m.Type != tc.typ || m.Body != tc.body || m.From != "+16505551234" || m.Name != "Sheena Nelson" ||
				m.PhoneNumberID != "106540352242922" || m.At.Unix() != 1749416383 || !json.Valid(m.Content) {
				t.Fatalf("%+v", m)
			}
			if tc.typ == "unsupported" && !strings.Contains(string(m.Content), "131051") {
				t.Fatalf("unsupported without its error: %s", m.Content)
			}
		})
	}
}

func TestParseStatuses(t *testing.T) {
	b, err := Parse(envelopeOf(`"statuses":[` +
		`{"id":"wamid.a","status":"read","timestamp":"1750263773","recipient_id":"16505551234"},` +
		`{"id":"wamid.a","status":"delivered","timestamp":"1750263770","recipient_id":"16505551234"},` +
		`{"id":"wamid.b","status":"failed","timestamp":"1750263771","recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"More than 24 hours have passed"}}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Statuses) != 3 || b.Statuses[0].Status != "read" || b.Statuses[2].ErrorCode != "131047" || b.Statuses[2].ErrorTitle != "Re-engagement message" {
		t.Fatalf("%+v", b.Statuses)
	}
}

func TestParseBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"not json":           `{"object":`,
		"other object":       `{"object":"page","entry":[]}`,
		"message without id": string(envelopeOf(`"messages":[{"from":"1","type":"text","text":{"body":"x"}}]`)),
		"status without id":  string(envelopeOf(`"statuses":[{"status":"read"}]`)),
		"wrong types":        string(envelopeOf(`"messages":"nope"`)),
	} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSignature(t *testing.T) {
	body := envelopeOf(`"messages":[]`)
	sig := Sign(body, "app-secret")
	if !VerifySignature(body, sig, "app-secret") {
		t.Fatal("own signature refused")
	}
	tampered := append([]byte{}, body...)
	tampered[10] ^= 1
	for name, ok := range map[string]bool{
		"tampered body": VerifySignature(tampered, sig, "app-secret"),
		"other secret":  VerifySignature(body, sig, "other"),
		"no prefix":     VerifySignature(body, strings.TrimPrefix(sig, "sha256="), "app-secret"),
		"not hex":       VerifySignature(body, "sha256=zz", "app-secret"),
		"empty secret":  VerifySignature(body, Sign(body, ""), ""),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(envelopeOf(contacts + `"messages":[{"from":"1","id":"w","timestamp":"1","type":"text","text":{"body":"oi"}}]`))
	f.Add(envelopeOf(`"statuses":[{"id":"w","status":"read","timestamp":"1","recipient_id":"1"}]`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"image","image":null}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		if err != nil {
			return
		}
		for _, m := range b.Messages {
			if m.ID == "" || !strings.HasPrefix(m.From, "+") || !json.Valid(m.Content) {
				t.Fatalf("accepted a message that cannot be stored: %+v", m)
			}
		}
	})
}

func TestParseStatusRef(t *testing.T) {
	b, err := Parse(envelopeOf(`"statuses":[{"id":"wamid.a","status":"sent","timestamp":"1750263773","recipient_id":"16505551234","biz_opaque_callback_data":"m42"}]`))
	if err != nil || len(b.Statuses) != 1 || b.Statuses[0].Ref != "m42" {
		t.Fatalf("%+v %v", b.Statuses, err)
	}
}

// TestParseAccountChanges reads the account fields of one notification; the change that
// cannot be read and the unknown field are skipped, the others are kept.
func TestParseAccountChanges(t *testing.T) {
	body := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1750263773,"changes":[` +
		`{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":1234567890123456,"message_template_name":"promo",` +
		`"message_template_language":"pt_BR","reason":"NONE","other_info":{"title":"FIRST_PAUSE","description":"paused 3 hours"}}},` +
		`{"field":"message_template_status_update","value":"not an object"},` +
		`{"field":"message_template_status_update","value":{"event":"DELETED","message_template_id":1,"message_template_name":"old","message_template_language":"en","reason":null}},` +
		`{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":1,"message_template_name":"promo","message_template_language":"pt_BR"}},` +
		`{"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"UPGRADE","old_limit":"TIER_250","current_limit":"TIER_1K"}},` +
		`{"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"FLAGGED","max_daily_conversations_per_business":10000}},` +
		`{"field":"business_capability_update","value":{"max_daily_conversation_per_phone":100000,"max_daily_conversations_per_business":100000,"max_phone_numbers_per_business":2}},` +
		`{"field":"business_capability_update","value":{"max_phone_numbers_per_business":2}},` +
		`{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}` +
		`]}]}`
	b, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []channel.Notice{
		{Kind: channel.NoticeTemplateStatus, Template: "promo", Language: "pt_BR", Event: "PAUSED", Reason: "FIRST_PAUSE"},
		{Kind: channel.NoticeTemplateStatus, Template: "old", Language: "en", Event: "DELETED"},
		{Kind: channel.NoticeTemplateQuality, Template: "promo", Language: "pt_BR", Quality: "YELLOW"},
		{Kind: channel.NoticeNumberQuality, Event: "UPGRADE", Limit: 2000},
		{Kind: channel.NoticeNumberQuality, Event: "FLAGGED", Limit: 10000},
		{Kind: channel.NoticeMessagingLimit, Limit: 100000},
	}
	if len(b.Notices) != len(want) {
		t.Fatalf("notices %+v", b.Notices)
	}
	for i := range want {
		if b.Notices[i] != want[i] {
			t.Errorf("notice %d: %+v, want %+v", i, b.Notices[i], want[i])
		}
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]int{
		`"TIER_250"`: 250, `"TIER_1K"`: 2000, `"TIER_2K"`: 2000, `"TIER_10K"`: 10000, `"TIER_100K"`: 100000,
		`"TIER_UNLIMITED"`: -1, `250`: 250, `2000`: 2000, `-1`: -1, `"100000"`: 100000, `"-1"`: -1,
		`"TIER_NOT_SET"`: 0, `null`: 0, ``: 0, `"x"`: 0, `0`: 0, `2.5`: 0, `{}`: 0,
	} {
		if got := ParseLimit(json.RawMessage(in)); got != want {
			t.Errorf("ParseLimit(%s) = %d, want %d", in, got, want)
		}
	}
}
