package wameow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"masteria/app/channel"
	"masteria/app/model"
)

var (
	customer = types.NewJID("5511987654321", types.DefaultUserServer)
	hidden   = types.NewJID("123456789012345", types.HiddenUserServer)
	at       = time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
)

// direct is a message from the customer in a one-to-one chat.
func direct(m *waE2E.Message) *events.Message {
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: customer, Sender: customer},
			ID:            "3EB0C767D26A1D0A5F", PushName: " Ana ", Timestamp: at,
		},
		Message: m,
	}
}

func content(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("content %s: %v", raw, err)
	}
	return c
}

func TestInboundKinds(t *testing.T) {
	cases := map[string]struct {
		msg         *waE2E.Message
		kind, body  string
		contentKeys map[string]any
	}{
		"conversation": {&waE2E.Message{Conversation: proto.String("Oi, vocês abrem domingo?")}, "text", "Oi, vocês abrem domingo?", nil},
		"extended text with a link": {&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
			Text: proto.String("Olha https://loja.com.br"), MatchedText: proto.String("https://loja.com.br")}}, "text", "Olha https://loja.com.br",
			map[string]any{"link": "https://loja.com.br"}},
		"image with caption": {&waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			Caption: proto.String("o produto"), Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(2048), FileSHA256: []byte{0xab, 0xcd}}},
			"image", "o produto", map[string]any{"mime_type": "image/jpeg", "file_length": float64(2048), "sha256": "abcd"}},
		"video": {&waE2E.Message{VideoMessage: &waE2E.VideoMessage{Caption: proto.String("vídeo"), Mimetype: proto.String("video/mp4"), Seconds: proto.Uint32(12)}},
			"video", "vídeo", map[string]any{"mime_type": "video/mp4", "seconds": float64(12)}},
		"voice note": {&waE2E.Message{AudioMessage: &waE2E.AudioMessage{Mimetype: proto.String("audio/ogg; codecs=opus"), Seconds: proto.Uint32(7), PTT: proto.Bool(true)}},
			"audio", "", map[string]any{"mime_type": "audio/ogg; codecs=opus", "seconds": float64(7), "voice": true}},
		"document": {&waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{FileName: proto.String("nota.pdf"), Caption: proto.String("segue"), Mimetype: proto.String("application/pdf")}},
			"document", "segue", map[string]any{"filename": "nota.pdf", "mime_type": "application/pdf"}},
		"sticker": {&waE2E.Message{StickerMessage: &waE2E.StickerMessage{Mimetype: proto.String("image/webp"), IsAnimated: proto.Bool(true)}},
			"sticker", "", map[string]any{"mime_type": "image/webp", "animated": true}},
		"location": {&waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(-23.55), DegreesLongitude: proto.Float64(-46.63), Name: proto.String("Loja Centro"), Address: proto.String("Rua A, 1")}},
			"location", "Loja Centro", map[string]any{"latitude": -23.55, "longitude": -46.63, "name": "Loja Centro", "address": "Rua A, 1"}},
		"live location": {&waE2E.Message{LiveLocationMessage: &waE2E.LiveLocationMessage{DegreesLatitude: proto.Float64(1), DegreesLongitude: proto.Float64(2)}},
			"location", "", map[string]any{"live": true, "latitude": float64(1), "longitude": float64(2)}},
		"contact": {&waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String("Bia"), Vcard: proto.String("BEGIN:VCARD\nEND:VCARD")}},
			"contacts", "Bia", nil},
		"contacts": {&waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{Contacts: []*waE2E.ContactMessage{
			{DisplayName: proto.String("Bia")}, {DisplayName: proto.String("Caio")}}}}, "contacts", "Bia", nil},
		"reaction": {&waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: &waCommon.MessageKey{ID: proto.String("3EB0SENT")}, Text: proto.String("👍")}},
			"reaction", "👍", map[string]any{"message_id": "3EB0SENT", "emoji": "👍"}},
		"button reply": {&waE2E.Message{ButtonsResponseMessage: &waE2E.ButtonsResponseMessage{SelectedButtonID: proto.String("yes"),
			Response: &waE2E.ButtonsResponseMessage_SelectedDisplayText{SelectedDisplayText: "Sim"}}}, "button", "Sim", map[string]any{"id": "yes"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in, skip := Inbound(direct(tc.msg))
			if skip != SkipNone {
				t.Fatalf("skipped: %s", skip)
			}
			if in.From != "+5511987654321" || in.Name != "Ana" || in.ProviderID != "3EB0C767D26A1D0A5F" || !in.At.Equal(at) {
				t.Fatalf("envelope: %+v", in)
			}
			if in.Kind != tc.kind || in.Body != tc.body {
				t.Fatalf("kind %q body %q, want %q %q", in.Kind, in.Body, tc.kind, tc.body)
			}
			c := content(t, in.Content)
			for k, want := range tc.contentKeys {
				if c[k] != want {
					t.Errorf("content[%s] = %#v, want %#v (all: %s)", k, c[k], want, in.Content)
				}
			}
		})
	}
}

func TestInboundContactsKeepEveryCard(t *testing.T) {
	in, _ := Inbound(direct(&waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{Contacts: []*waE2E.ContactMessage{
		{DisplayName: proto.String("Bia"), Vcard: proto.String("V1")}, {DisplayName: proto.String("Caio"), Vcard: proto.String("V2")}}}}))
	var c struct {
		Contacts []map[string]string `json:"contacts"`
	}
	_ = json.Unmarshal(in.Content, &c)
	if len(c.Contacts) != 2 || c.Contacts[1]["name"] != "Caio" || c.Contacts[1]["vcard"] != "V2" {
		t.Fatalf("contacts: %s", in.Content)
	}
}

func TestInboundSkips(t *testing.T) {
	text := &waE2E.Message{Conversation: proto.String("oi")}
	group := types.NewJID("120363025246125888", types.GroupServer)
	cases := map[string]struct {
		edit func(e *events.Message)
		want Skip
	}{
		"group": {func(e *events.Message) { e.Info.Chat, e.Info.IsGroup = group, true }, SkipGroup},
		"status broadcast": {func(e *events.Message) {
			e.Info.Chat, e.Info.IsGroup = types.StatusBroadcastJID, true
		}, SkipBroadcast},
		"newsletter":  {func(e *events.Message) { e.Info.Chat = types.NewJID("1203630", types.NewsletterServer) }, SkipGroup},
		"from me":     {func(e *events.Message) { e.Info.IsFromMe = true }, SkipFromMe},
		"no sender":   {func(e *events.Message) { e.Info.Sender = types.JID{} }, SkipNoPhone},
		"protocol":    {func(e *events.Message) { e.Message = &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{}} }, SkipEmpty},
		"no message":  {func(e *events.Message) { e.Message = nil }, SkipEmpty},
		"empty reply": {func(e *events.Message) { e.Message = &waE2E.Message{} }, SkipEmpty},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := direct(text)
			tc.edit(e)
			if _, skip := Inbound(e); skip != tc.want {
				t.Fatalf("skip %q, want %q", skip, tc.want)
			}
		})
	}
}

func TestInboundSenderNumber(t *testing.T) {
	// A LID sender with its phone number as the alternative address.
	e := direct(&waE2E.Message{Conversation: proto.String("oi")})
	e.Info.Sender, e.Info.SenderAlt = hidden, customer
	if in, skip := Inbound(e); skip != SkipNone || in.From != "+5511987654321" {
		t.Fatalf("lid with alt: %+v %s", in, skip)
	}
	// A LID sender with no known number is still a customer, found and answered by the LID.
	e = direct(&waE2E.Message{Conversation: proto.String("oi")})
	e.Info.Sender, e.Info.SenderAlt = hidden, types.JID{}
	if in, skip := Inbound(e); skip != SkipNone || in.From != "" || in.LID != hidden.ToNonAD().String() {
		t.Fatalf("lid only: %+v %s", in, skip)
	}
	// The sender's device (":12") is not part of the number.
	e = direct(&waE2E.Message{Conversation: proto.String("oi")})
	e.Info.Sender = types.JID{User: "5511987654321", Device: 12, Server: types.DefaultUserServer}
	if in, _ := Inbound(e); in.From != "+5511987654321" {
		t.Fatalf("device jid: %q", in.From)
	}
	// A customer's broadcast list lands in their direct chat.
	e = direct(&waE2E.Message{Conversation: proto.String("promo")})
	e.Info.Chat, e.Info.IsGroup = types.NewJID("1717000000", types.BroadcastServer), true
	if in, skip := Inbound(e); skip != SkipNone || in.From != "+5511987654321" {
		t.Fatalf("broadcast list: %+v %s", in, skip)
	}
	// A view-once photo says so.
	e = direct(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{Mimetype: proto.String("image/jpeg")}})
	e.IsViewOnce = true
	if in, _ := Inbound(e); content(t, in.Content)["view_once"] != true {
		t.Fatalf("view once: %s", in.Content)
	}
}

func TestReceiptStatuses(t *testing.T) {
	src := types.MessageSource{Chat: customer, Sender: customer}
	cases := map[string]struct {
		r      events.Receipt
		status string
		ok     bool
	}{
		"delivered": {events.Receipt{MessageSource: src, MessageIDs: []string{"A", "B"}, Type: types.ReceiptTypeDelivered}, model.StatusDelivered, true},
		"read":      {events.Receipt{MessageSource: src, MessageIDs: []string{"A", "B"}, Type: types.ReceiptTypeRead}, model.StatusRead, true},
		"played":    {events.Receipt{MessageSource: src, MessageIDs: []string{"A", "B"}, Type: types.ReceiptTypePlayed}, model.StatusRead, true},
		"read by our other device": {events.Receipt{MessageSource: types.MessageSource{Chat: customer, Sender: customer, IsFromMe: true},
			MessageIDs: []string{"A"}, Type: types.ReceiptTypeReadSelf}, "", false},
		"retry":  {events.Receipt{MessageSource: src, MessageIDs: []string{"A"}, Type: types.ReceiptTypeRetry}, "", false},
		"group":  {events.Receipt{MessageSource: types.MessageSource{Chat: customer, IsGroup: true}, MessageIDs: []string{"A"}, Type: types.ReceiptTypeRead}, "", false},
		"no ids": {events.Receipt{MessageSource: src, Type: types.ReceiptTypeRead}, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, ids, ok := Receipt(&tc.r)
			if status != tc.status || ok != tc.ok {
				t.Fatalf("got %q %v, want %q %v", status, ok, tc.status, tc.ok)
			}
			if ok && (len(ids) != 2 || ids[0] != "A" || ids[1] != "B") {
				t.Fatalf("ids %v", ids)
			}
		})
	}
}

func TestOutbound(t *testing.T) {
	ctx := context.Background()
	var uploaded []byte
	var uploadedAs whatsmeow.MediaType
	upload := func(_ context.Context, data []byte, mt whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
		uploaded, uploadedAs = data, mt
		return whatsmeow.UploadResponse{URL: "https://mmg.whatsapp.net/x", DirectPath: "/v/t62/x", MediaKey: []byte{1, 2},
			FileEncSHA256: []byte{3}, FileSHA256: []byte{4}}, nil
	}
	file := func(mime, name string, data string) *channel.Attachment {
		return &channel.Attachment{MIME: mime, Filename: name, Size: int64(len(data)),
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}
	}
	m, err := outbound(ctx, channel.Outbound{To: "+5511987654321", Kind: "text", Body: "Olá"}, upload)
	if err != nil || m.GetConversation() != "Olá" {
		t.Fatalf("text: %v %v", m, err)
	}
	m, err = outbound(ctx, channel.Outbound{Kind: "image", Body: "o bolo", Media: file("image/jpeg", "bolo.jpg", "JPEGDATA")}, upload)
	if img := m.GetImageMessage(); err != nil || img.GetCaption() != "o bolo" || img.GetDirectPath() != "/v/t62/x" || img.GetFileLength() != 8 ||
		img.GetMimetype() != "image/jpeg" || string(uploaded) != "JPEGDATA" || uploadedAs != whatsmeow.MediaImage {
		t.Fatalf("image: %v %v (uploaded %q as %q)", m, err, uploaded, uploadedAs)
	}
	m, err = outbound(ctx, channel.Outbound{Kind: "document", Media: file("application/pdf", "nota.pdf", "%PDF")}, upload)
	if d := m.GetDocumentMessage(); err != nil || d.GetFileName() != "nota.pdf" || d.Caption != nil || uploadedAs != whatsmeow.MediaDocument {
		t.Fatalf("document: %v %v", m, err)
	}
	m, err = outbound(ctx, channel.Outbound{Kind: "audio", Body: "ouça", Media: file("audio/ogg", "", "OGG")}, upload)
	if a := m.GetAudioMessage(); err != nil || a == nil || uploadedAs != whatsmeow.MediaAudio {
		t.Fatalf("audio: %v %v", m, err)
	}
	for name, o := range map[string]channel.Outbound{
		"a file by link": {Kind: "image", MediaURL: "https://x/y.jpg"},
		"template":       {Kind: "template", Template: &channel.Template{Name: "boas_vindas"}},
		"empty":          {Kind: "text"},
		"sticker file":   {Kind: "sticker", Media: file("image/webp", "", "RIFF")},
		"location":       {Kind: "location", Body: "aqui"},
	} {
		var se *channel.SendError
		if _, err := outbound(ctx, o, upload); err == nil || !asSendError(err, &se) || !se.Permanent {
			t.Errorf("%s: %v, want a permanent SendError", name, err)
		}
	}
	failing := func(context.Context, []byte, whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
		return whatsmeow.UploadResponse{}, errors.New("media server unreachable")
	}
	var se *channel.SendError
	if _, err := outbound(ctx, channel.Outbound{Kind: "image", Media: file("image/png", "", "PNG")}, failing); err == nil || asSendError(err, &se) {
		t.Errorf("a failed upload must be temporary (retried), got %v", err)
	}
	if _, err := userJID("+5511987654321"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "+", "+55abc", "123"} {
		if _, err := userJID(bad); err == nil {
			t.Errorf("userJID(%q) accepted", bad)
		}
	}
}

// An inbound file's content carries, as its id, what the media job needs to download it
// through the session later; a ref that is not one is refused for good.
func TestInboundMediaRef(t *testing.T) {
	in, _ := Inbound(direct(&waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{FileName: proto.String("nota.pdf"),
		Mimetype: proto.String("application/pdf"), DirectPath: proto.String("/v/t62.7119-24/abc"), MediaKey: []byte{9, 8, 7},
		FileEncSHA256: []byte{1}, FileSHA256: []byte{2}, FileLength: proto.Uint64(4096)}}))
	c := content(t, in.Content)
	ref, _ := c["id"].(string)
	r, mt, err := decodeRef(ref)
	if err != nil || mt != whatsmeow.MediaDocument || r.DirectPath != "/v/t62.7119-24/abc" || string(r.MediaKey) != "\x09\x08\x07" || r.Length != 4096 {
		t.Fatalf("ref %q: %+v %q %v", ref, r, mt, err)
	}
	for _, bad := range []string{"", "wa-media:", "wa-media:!!", "3EB0C767D26A1D0A5F", refPrefix + "eyJrIjoiZ2lmIiwicCI6Ii94In0"} {
		var se *channel.SendError
		if _, _, err := decodeRef(bad); err == nil || !asSendError(err, &se) || !se.Permanent {
			t.Errorf("decodeRef(%q): %v", bad, err)
		}
	}
	// Without download details (as in a message without a file) there is no id.
	in, _ = Inbound(direct(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{Mimetype: proto.String("image/jpeg")}}))
	if _, ok := content(t, in.Content)["id"]; ok {
		t.Errorf("an id without download details: %s", in.Content)
	}
}

func asSendError(err error, se **channel.SendError) bool {
	e, ok := err.(*channel.SendError)
	*se = e
	return ok
}

func TestDrawQR(t *testing.T) {
	img, err := DrawQR("2@AbCdEf,GhIjKl,MnOpQr,StUvWx")
	if err != nil {
		t.Fatal(err)
	}
	// Version 2 or more (25+ modules) plus the 4-module quiet zone on each side.
	if img.Size < 25+8 || img.Path == "" || img.Path[0] != 'M' {
		t.Fatalf("size %d path %.40q", img.Size, img.Path)
	}
	other, _ := DrawQR("2@another code")
	if other.Path == img.Path {
		t.Fatal("two codes drew the same image")
	}
}
