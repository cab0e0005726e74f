package metasim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"masteria/app/sim/metasim"
)

var ana = metasim.Sender{WaID: customer, Name: "Ana Souza"}

// valueOf checks the envelope every messages webhook shares, with the field names of Meta's
// messages webhook reference, and returns entry[0].changes[0].value.
func valueOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("webhook body: %v", err)
	}
	wantKeys(t, "envelope", env, "entry", "object")
	if env["object"] != "whatsapp_business_account" {
		t.Errorf("object %v", env["object"])
	}
	entries := env["entry"].([]any)
	if len(entries) != 1 {
		t.Fatalf("%d entries", len(entries))
	}
	entry := entries[0].(map[string]any)
	wantKeys(t, "entry", entry, "changes", "id")
	if entry["id"] != wabaID {
		t.Errorf("entry id %v, want the WABA id", entry["id"])
	}
	change := entry["changes"].([]any)[0].(map[string]any)
	wantKeys(t, "change", change, "field", "value")
	if change["field"] != "messages" {
		t.Errorf("field %v", change["field"])
	}
	value := change["value"].(map[string]any)
	if value["messaging_product"] != "whatsapp" {
		t.Errorf("messaging_product %v", value["messaging_product"])
	}
	meta := value["metadata"].(map[string]any)
	wantKeys(t, "metadata", meta, "display_phone_number", "phone_number_id")
	if meta["display_phone_number"] != "15550783881" || meta["phone_number_id"] != phoneID {
		t.Errorf("metadata %v", meta)
	}
	return value
}

// messageOf checks value.contacts and the common message fields and returns messages[0].
func messageOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	value := valueOf(t, body)
	wantKeys(t, "value", value, "contacts", "messages", "messaging_product", "metadata")
	c := value["contacts"].([]any)[0].(map[string]any)
	wantKeys(t, "contact", c, "profile", "user_id", "wa_id")
	if c["wa_id"] != customer || c["profile"].(map[string]any)["name"] != "Ana Souza" {
		t.Errorf("contact %v", c)
	}
	m := value["messages"].([]any)[0].(map[string]any)
	if m["from"] != customer || !strings.HasPrefix(m["id"].(string), "wamid.") {
		t.Errorf("message %v", m)
	}
	if ts, ok := m["timestamp"].(string); !ok {
		t.Errorf("timestamp %v is not a string", m["timestamp"])
	} else if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		t.Errorf("timestamp %q is not Unix seconds", ts)
	}
	return m
}

// wantKeys fails unless obj has exactly these keys.
func wantKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s keys %v, want %v", what, got, keys)
	}
}

func obj(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

func TestInboundShapes(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		send  func(s *metasim.Server) (string, int, error)
		check func(t *testing.T, m map[string]any)
	}{
		{"text", func(s *metasim.Server) (string, int, error) {
			return s.InboundText(ctx, phoneID, ana, "Does it come in another color?")
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "from", "from_user_id", "id", "timestamp", "type", "text")
			wantKeys(t, "text", obj(m, "text"), "body")
		}},
		{"image", func(s *metasim.Server) (string, int, error) {
			return s.InboundMedia(ctx, phoneID, ana, metasim.MediaFile{Type: "image", Data: []byte("\xff\xd8\xff\xe0jpeg"), Caption: "look"})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "from", "from_user_id", "id", "timestamp", "type", "image")
			wantKeys(t, "image", obj(m, "image"), "caption", "mime_type", "sha256", "id")
			if obj(m, "image")["mime_type"] != "image/jpeg" {
				t.Errorf("mime_type %v", obj(m, "image")["mime_type"])
			}
		}},
		{"voice note", func(s *metasim.Server) (string, int, error) {
			return s.InboundMedia(ctx, phoneID, ana, metasim.MediaFile{Type: "audio", Data: []byte("OggS"), Voice: true})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "audio", obj(m, "audio"), "mime_type", "sha256", "id", "voice")
			if obj(m, "audio")["voice"] != true || obj(m, "audio")["mime_type"] != "audio/ogg; codecs=opus" {
				t.Errorf("audio %v", obj(m, "audio"))
			}
		}},
		{"video", func(s *metasim.Server) (string, int, error) {
			return s.InboundMedia(ctx, phoneID, ana, metasim.MediaFile{Type: "video", Data: []byte("mp4"), MIMEType: "video/mp4"})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "video", obj(m, "video"), "mime_type", "sha256", "id")
		}},
		{"document", func(s *metasim.Server) (string, int, error) {
			return s.InboundMedia(ctx, phoneID, ana, metasim.MediaFile{Type: "document", Data: []byte("%PDF-1.7"), Filename: "boleto.pdf", Caption: "segue"})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "document", obj(m, "document"), "caption", "filename", "mime_type", "sha256", "id")
			if obj(m, "document")["mime_type"] != "application/pdf" {
				t.Errorf("mime_type %v", obj(m, "document")["mime_type"])
			}
		}},
		{"sticker", func(s *metasim.Server) (string, int, error) {
			return s.InboundMedia(ctx, phoneID, ana, metasim.MediaFile{Type: "sticker", Data: []byte("RIFFxxxxWEBP")})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "sticker", obj(m, "sticker"), "mime_type", "sha256", "id", "animated")
			if obj(m, "sticker")["mime_type"] != "image/webp" || obj(m, "sticker")["animated"] != false {
				t.Errorf("sticker %v", obj(m, "sticker"))
			}
		}},
		{"location", func(s *metasim.Server) (string, int, error) {
			return s.InboundLocation(ctx, phoneID, ana, metasim.Location{Latitude: -23.56, Longitude: -46.65, Name: "Loja", Address: "Av. Paulista, 1000"})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "from", "from_user_id", "id", "timestamp", "type", "location")
			wantKeys(t, "location", obj(m, "location"), "latitude", "longitude", "name", "address")
			if obj(m, "location")["latitude"] != -23.56 {
				t.Errorf("latitude %v is not a number", obj(m, "location")["latitude"])
			}
		}},
		{"contacts", func(s *metasim.Server) (string, int, error) {
			return s.InboundContacts(ctx, phoneID, ana, metasim.SharedContact{
				Name:   metasim.ContactName{FormattedName: "Bia Lima", FirstName: "Bia", LastName: "Lima"},
				Phones: []metasim.ContactPhone{{Phone: "+55 21 98888-7777", WaID: "5521988887777", Type: "CELL"}},
				Emails: []metasim.ContactEmail{{Email: "bia@example.com", Type: "WORK"}},
				Org:    &metasim.ContactOrg{Company: "Acme"},
			})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "from", "from_user_id", "id", "timestamp", "type", "contacts")
			card := m["contacts"].([]any)[0].(map[string]any)
			wantKeys(t, "card", card, "emails", "name", "org", "phones")
			wantKeys(t, "name", obj(card, "name"), "formatted_name", "first_name", "last_name")
			wantKeys(t, "phone", card["phones"].([]any)[0].(map[string]any), "phone", "wa_id", "type")
			wantKeys(t, "email", card["emails"].([]any)[0].(map[string]any), "email", "type")
		}},
		{"button reply", func(s *metasim.Server) (string, int, error) {
			return s.InboundButtonReply(ctx, phoneID, ana, "wamid.BIZ1", metasim.Reply{ID: "yes", Title: "Sim"})
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "context", "from", "from_user_id", "id", "timestamp", "type", "interactive")
			wantKeys(t, "context", obj(m, "context"), "from", "id")
			if obj(m, "context")["id"] != "wamid.BIZ1" || obj(m, "context")["from"] != "15550783881" {
				t.Errorf("context %v", obj(m, "context"))
			}
			in := obj(m, "interactive")
			wantKeys(t, "interactive", in, "type", "button_reply")
			wantKeys(t, "button_reply", obj(in, "button_reply"), "id", "title")
			if in["type"] != "button_reply" || m["type"] != "interactive" {
				t.Errorf("types %v %v", m["type"], in["type"])
			}
		}},
		{"list reply", func(s *metasim.Server) (string, int, error) {
			return s.InboundListReply(ctx, phoneID, ana, "wamid.BIZ2", metasim.Reply{ID: "row-2", Title: "Terça", Description: "14h às 18h"})
		}, func(t *testing.T, m map[string]any) {
			in := obj(m, "interactive")
			wantKeys(t, "interactive", in, "type", "list_reply")
			wantKeys(t, "list_reply", obj(in, "list_reply"), "id", "title", "description")
		}},
		{"template quick reply", func(s *metasim.Server) (string, int, error) {
			return s.InboundButton(ctx, phoneID, ana, "wamid.BIZ3", "Parar promoções", "STOP")
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "context", "from", "from_user_id", "id", "timestamp", "type", "button")
			wantKeys(t, "button", obj(m, "button"), "text", "payload")
			if m["type"] != "button" || obj(m, "button")["payload"] != "STOP" {
				t.Errorf("button %v", m)
			}
		}},
		{"reaction", func(s *metasim.Server) (string, int, error) {
			return s.InboundReaction(ctx, phoneID, ana, "wamid.BIZ4", "❤️")
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "from", "from_user_id", "id", "timestamp", "type", "reaction")
			wantKeys(t, "reaction", obj(m, "reaction"), "message_id", "emoji")
		}},
		{"unsupported", func(s *metasim.Server) (string, int, error) {
			return s.InboundUnsupported(ctx, phoneID, ana, "poll_creation")
		}, func(t *testing.T, m map[string]any) {
			wantKeys(t, "message", m, "from", "from_user_id", "id", "timestamp", "type", "errors", "unsupported")
			e := m["errors"].([]any)[0].(map[string]any)
			wantKeys(t, "error", e, "code", "title", "message", "error_data")
			wantKeys(t, "error_data", obj(e, "error_data"), "details")
			if e["code"] != float64(131051) || obj(m, "unsupported")["type"] != "poll_creation" {
				t.Errorf("unsupported %v", m)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _, app := newSim(t)
			wamid, status, err := c.send(s)
			if err != nil || status != http.StatusOK {
				t.Fatalf("send: %d %v", status, err)
			}
			m := messageOf(t, app.wait(t, 1)[0])
			if m["id"] != wamid {
				t.Errorf("returned wamid %q, webhook has %v", wamid, m["id"])
			}
			c.check(t, m)
		})
	}
}

func TestStatusShapes(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses()
	openWindow(t, s)
	a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, map[string]any{
		"messaging_product": "whatsapp", "to": customer, "text": map[string]any{"body": "x"},
		"biz_opaque_callback_data": "campaign-7",
	})
	wamid := a.body["messages"].([]any)[0].(map[string]any)["id"].(string)
	ctx := context.Background()

	for _, st := range []string{"sent", "delivered", "read"} {
		if status, err := s.SendStatus(ctx, phoneID, wamid, st); err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %v", st, status, err)
		}
	}
	if _, err := s.SendFailed(ctx, phoneID, wamid, metasim.CloudError(131026, "")); err != nil {
		t.Fatal(err)
	}
	bodies := app.wait(t, 5)[1:]
	for i, want := range []string{"sent", "delivered", "read", "failed"} {
		value := valueOf(t, bodies[i])
		wantKeys(t, "value", value, "messaging_product", "metadata", "statuses")
		st := value["statuses"].([]any)[0].(map[string]any)
		if st["status"] != want || st["id"] != wamid || st["recipient_id"] != customer || st["biz_opaque_callback_data"] != "campaign-7" {
			t.Errorf("%s: %v", want, st)
		}
		switch want {
		case "sent", "delivered":
			wantKeys(t, want, st, "id", "status", "timestamp", "recipient_id", "biz_opaque_callback_data", "conversation", "pricing")
			wantKeys(t, "pricing", obj(st, "pricing"), "billable", "pricing_model", "type", "category")
			if want == "sent" {
				wantKeys(t, "conversation", obj(st, "conversation"), "id", "expiration_timestamp", "origin")
			} else {
				wantKeys(t, "conversation", obj(st, "conversation"), "id", "origin")
			}
		case "read":
			wantKeys(t, want, st, "id", "status", "timestamp", "recipient_id", "biz_opaque_callback_data")
		case "failed":
			wantKeys(t, want, st, "id", "status", "timestamp", "recipient_id", "biz_opaque_callback_data", "errors")
			e := st["errors"].([]any)[0].(map[string]any)
			wantKeys(t, "error", e, "code", "title", "message", "error_data", "href")
			if e["code"] != float64(131026) || obj(e, "error_data")["details"] == "" {
				t.Errorf("failed error %v", e)
			}
		}
	}

	if _, err := s.SendStatus(ctx, phoneID, "wamid.never", "read"); !errors.Is(err, metasim.ErrUnknownMessage) {
		t.Errorf("unknown wamid: %v", err)
	}
	// SendStatuses takes anything, for ids the sim never sent.
	if _, err := s.SendStatuses(ctx, phoneID, metasim.Status{ID: "wamid.legacy", Status: "delivered", RecipientID: customer}); err != nil {
		t.Fatal(err)
	}
	st := statusesOf(t, app.wait(t, 6)[5:])
	if st[0].ID != "wamid.legacy" || st[0].Timestamp == "" {
		t.Errorf("free status %+v", st[0])
	}
}

func TestSignatureHeaders(t *testing.T) {
	s, _, app := newSim(t)
	if _, _, err := s.InboundText(context.Background(), phoneID, ana, "oi"); err != nil {
		t.Fatal(err)
	}
	body := app.wait(t, 1)[0]
	app.mu.Lock()
	h := app.headers[0]
	app.mu.Unlock()
	if got := h.Get("X-Hub-Signature-256"); got != metasim.Signature(appSecret, body) {
		t.Errorf("X-Hub-Signature-256 %q", got)
	}
	if !strings.HasPrefix(h.Get("X-Hub-Signature"), "sha1=") {
		t.Errorf("X-Hub-Signature %q", h.Get("X-Hub-Signature"))
	}
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", h.Get("Content-Type"))
	}
}

func TestWrongAndTamperedSignatures(t *testing.T) {
	s, _, app := newSim(t)
	ctx := context.Background()
	w, _, err := s.BuildInbound(phoneID, ana, metasim.Message{Type: "text", Text: &metasim.Text{Body: "oi"}})
	if err != nil {
		t.Fatal(err)
	}

	if status, err := s.Deliver(ctx, w.WithWrongSignature()); err != nil || status != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d %v", status, err)
	}
	tampered := w
	tampered.Body = bytes.Replace(w.Body, []byte(`"oi"`), []byte(`"io"`), 1)
	if bytes.Equal(tampered.Body, w.Body) {
		t.Fatal("body not tampered")
	}
	if status, err := s.Deliver(ctx, tampered); err != nil || status != http.StatusUnauthorized {
		t.Errorf("tampered body: %d %v", status, err)
	}
	if status, err := s.Deliver(ctx, w); err != nil || status != http.StatusOK {
		t.Errorf("original: %d %v", status, err)
	}
	if accepted, rejected := app.count(); accepted != 1 || rejected != 2 {
		t.Errorf("accepted %d rejected %d", accepted, rejected)
	}
}

func TestDuplicateDelivery(t *testing.T) {
	s, _, app := newSim(t)
	w, m, err := s.BuildInbound(phoneID, ana, metasim.Message{Type: "text", Text: &metasim.Text{Body: "oi"}})
	if err != nil {
		t.Fatal(err)
	}
	first, second, err := s.DeliverTwice(context.Background(), w)
	if err != nil || first != http.StatusOK || second != http.StatusOK {
		t.Fatalf("%d %d %v", first, second, err)
	}
	bodies := app.wait(t, 2)
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Error("the two deliveries differ")
	}
	if got := messageOf(t, bodies[1])["id"]; got != m.ID {
		t.Errorf("id %v, want %s", got, m.ID)
	}
}

func TestReadBeforeDelivered(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses()
	openWindow(t, s)
	a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, textBody(customer, "x"))
	wamid := a.body["messages"].([]any)[0].(map[string]any)["id"].(string)
	read, delivered, err := s.SendReadBeforeDelivered(context.Background(), phoneID, wamid)
	if err != nil || read != http.StatusOK || delivered != http.StatusOK {
		t.Fatalf("%d %d %v", read, delivered, err)
	}
	st := statusesOf(t, app.wait(t, 3)[1:])
	if st[0].Status != "read" || st[1].Status != "delivered" || st[0].ID != wamid || st[1].ID != wamid {
		t.Errorf("order %+v", st)
	}
}

func TestBuildWithoutSending(t *testing.T) {
	s, _, app := newSim(t)
	w, m, err := s.BuildInbound(phoneID, ana, metasim.Message{Type: "text", Text: &metasim.Text{Body: "seed"}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := app.count(); n != 0 {
		t.Errorf("building posted %d webhooks", n)
	}
	if w.URL != app.url() || w.Header.Get("X-Hub-Signature-256") != metasim.Signature(appSecret, w.Body) {
		t.Errorf("webhook %s %v", w.URL, w.Header)
	}
	if got := messageOf(t, w.Body); got["id"] != m.ID || obj(got, "text")["body"] != "seed" {
		t.Errorf("body %s", w.Body)
	}

	st, err := s.BuildStatuses(phoneID, metasim.Status{ID: "wamid.X", Status: "read", RecipientID: customer})
	if err != nil {
		t.Fatal(err)
	}
	if v := valueOf(t, st.Body); v["statuses"] == nil {
		t.Errorf("status body %s", st.Body)
	}
}

func TestInboundErrors(t *testing.T) {
	s, _, _ := newSim(t)
	ctx := context.Background()
	if _, _, err := s.InboundText(ctx, "nope", ana, "x"); !errors.Is(err, metasim.ErrUnknownNumber) {
		t.Errorf("unknown number: %v", err)
	}
	if _, _, err := s.InboundText(ctx, otherPhoneID, ana, "x"); !errors.Is(err, metasim.ErrNoWebhookURL) {
		t.Errorf("no webhook URL: %v", err)
	}
	if _, _, err := s.InboundMedia(ctx, phoneID, ana, metasim.MediaFile{Type: "gif"}); err == nil {
		t.Error("media of unknown type accepted")
	}
	if _, _, err := s.BuildInbound(phoneID, ana, metasim.Message{}); err == nil {
		t.Error("message without type accepted")
	}
}

func TestInboundMediaResolves(t *testing.T) {
	s, base, app := newSim(t)
	data := []byte("%PDF-1.7 invoice")
	if _, _, err := s.InboundMedia(context.Background(), phoneID, ana, metasim.MediaFile{Type: "document", Data: data, Filename: "nota.pdf"}); err != nil {
		t.Fatal(err)
	}
	doc := obj(messageOf(t, app.wait(t, 1)[0]), "document")
	sum := sha256.Sum256(data)
	if doc["sha256"] != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("sha256 %v", doc["sha256"])
	}
	info := call(t, "GET", base+"/v21.0/"+doc["id"].(string), token, nil)
	if info.status != http.StatusOK || info.body["mime_type"] != "application/pdf" {
		t.Fatalf("media info %d %v", info.status, info.body)
	}
	status, _, got := download(t, info.body["url"].(string), token)
	if status != http.StatusOK || !bytes.Equal(got, data) {
		t.Errorf("download %d %q", status, got)
	}
}

func TestVerify(t *testing.T) {
	s, _, app := newSim(t)
	ctx := context.Background()
	challenge, status, err := s.Verify(ctx, app.url(), "verify-me")
	if err != nil || status != http.StatusOK || challenge == "" {
		t.Errorf("right token: %q %d %v", challenge, status, err)
	}
	if _, status, err := s.Verify(ctx, app.url(), "wrong"); err != nil || status != http.StatusForbidden {
		t.Errorf("wrong token: %d %v", status, err)
	}

	var gotQuery string
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		io.WriteString(w, "ok")
	}))
	defer liar.Close()
	if _, status, err := s.Verify(ctx, liar.URL+"/hook?x=1", "t"); !errors.Is(err, metasim.ErrChallengeMismatch) || status != http.StatusOK {
		t.Errorf("not echoing: %d %v", status, err)
	}
	for _, p := range []string{"hub.mode=subscribe", "hub.verify_token=t", "hub.challenge=", "x=1"} {
		if !strings.Contains(gotQuery, p) {
			t.Errorf("query %q lacks %s", gotQuery, p)
		}
	}
}

// Example shows the sim wired to an app's webhook: a user writes, the app answers through the
// Graph API, and status webhooks follow.
func Example() {
	sim := metasim.New()
	base, err := sim.Start()
	if err != nil {
		return
	}
	defer sim.Close()
	sim.AddNumber(metasim.Number{
		PhoneNumberID: "106540352242922", WABAID: "102290129340398", DisplayNumber: "+1 555-078-3881",
		AccessToken: "EAAG...", AppSecret: "app-secret", WebhookURL: "http://127.0.0.1:8080/webhooks/whatsapp/ch-1",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The user writes first, which opens the 24-hour window.
	_, _, _ = sim.InboundText(ctx, "106540352242922", metasim.Sender{WaID: "5511999990000", Name: "Ana"}, "Oi!")
	// The app's client posts to base+"/v21.0/106540352242922/messages"; the test then waits.
	_ = base
	sent, _ := sim.WaitSent(ctx, 1)
	_ = sent
}
