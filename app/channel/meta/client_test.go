package meta_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"masteria/app/channel"
	"masteria/app/channel/meta"
	"masteria/app/model"
	"masteria/app/sim/metasim"
)

const (
	phoneID  = "106540352242922"
	wabaID   = "102290129340398"
	token    = "EAAG-client-test"
	customer = "+5511987654321"
)

// startSim runs a Graph API simulator with one number whose customer wrote just now.
func startSim(t *testing.T, opts ...metasim.Option) (*metasim.Server, string) {
	t.Helper()
	s := metasim.New(opts...)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: "+1 555-078-3881", AccessToken: token, AppSecret: "sec"})
	s.SetAutoStatuses()
	s.SetLastInbound(phoneID, "5511987654321", time.Now())
	return s, base
}

func client(t *testing.T, base, tok string) *meta.Client {
	t.Helper()
	cfg, _ := json.Marshal(map[string]string{"phone_number_id": phoneID, "waba_id": wabaID, "graph_url": base})
	c, err := meta.NewClient(model.Channel{ID: 7, Kind: model.KindWhatsAppCloud, Config: cfg}, map[string]string{"access_token": tok})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFactory(t *testing.T) {
	t.Parallel()
	cfg, _ := json.Marshal(map[string]string{"phone_number_id": phoneID})
	ch, err := meta.New(model.Channel{ID: 1, Kind: model.KindWhatsAppCloud, Config: cfg}, map[string]string{"access_token": "x"}, nil)
	if err != nil || ch.Kind() != model.KindWhatsAppCloud || !ch.Capabilities().Templates {
		t.Fatalf("%v %v", ch, err)
	}
	if _, err := meta.New(model.Channel{ID: 1, Config: cfg}, nil, nil); err == nil {
		t.Fatal("no token accepted")
	}
	if _, err := meta.New(model.Channel{ID: 1}, map[string]string{"access_token": "x"}, nil); err == nil {
		t.Fatal("no phone number id accepted")
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	s.AddTemplate(wabaID, metasim.Template{
		Name: "order_update", Language: "pt_BR", Status: metasim.TemplateApproved, Category: metasim.CategoryUtility,
		Components: []map[string]any{{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu."}},
	})
	c := client(t, base, token)
	ctx := context.Background()

	sent, err := c.Send(ctx, channel.Outbound{To: customer, Kind: "text", Body: "Olá! https://example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, channel.Outbound{To: customer, Kind: "template",
		Template: &channel.Template{Name: "order_update", Language: "pt_BR", Params: []string{"Ana", "42"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, channel.Outbound{To: customer, Kind: "image", Body: "a foto", MediaURL: "https://cdn.example.com/p.jpg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, channel.Outbound{To: customer, Kind: "document", Body: "o boleto", MediaURL: "https://cdn.example.com/boleto.pdf"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.WaitSent(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	text := got[0]
	if text.ID != sent.ProviderID || text.Type != "text" || text.Text != "Olá! https://example.com" || text.WaID != "5511987654321" {
		t.Fatalf("text: %+v (sent %q)", text, sent.ProviderID)
	}
	var raw struct {
		Product string `json:"messaging_product"`
		Text    struct {
			Body       string `json:"body"`
			PreviewURL *bool  `json:"preview_url"`
		} `json:"text"`
	}
	if err := json.Unmarshal(text.Raw, &raw); err != nil || raw.Product != "whatsapp" || raw.Text.PreviewURL == nil || *raw.Text.PreviewURL {
		t.Fatalf("text JSON %s", text.Raw)
	}
	if tp := got[1]; tp.Type != "template" || tp.Template != "order_update" || tp.Language != "pt_BR" {
		t.Fatalf("template: %+v", tp)
	}
	if img := got[2]; img.Type != "image" || img.MediaLink != "https://cdn.example.com/p.jpg" || img.Caption != "a foto" {
		t.Fatalf("image: %+v", img)
	}
	if doc := got[3]; doc.Type != "document" || doc.MediaLink != "https://cdn.example.com/boleto.pdf" || doc.Caption != "o boleto" {
		t.Fatalf("document: %+v", doc)
	}

	// A template whose parameters do not match is refused for good (132000).
	_, err = c.Send(ctx, channel.Outbound{To: customer, Kind: "template", Template: &channel.Template{Name: "order_update", Language: "pt_BR"}})
	var se *channel.SendError
	if !errors.As(err, &se) || !se.Permanent || se.Code != "132000" {
		t.Fatalf("bad params: %v", err)
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := channel.Outbound{To: customer, Kind: "text", Body: "oi"}

	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		_, base := startSim(t)
		_, err := client(t, base, "wrong").Send(ctx, msg)
		var se *channel.SendError
		var thr *channel.ThrottledError
		if err == nil || errors.As(err, &thr) || (errors.As(err, &se) && se.Permanent) {
			t.Fatalf("wrong token: %v", err)
		}
	})
	for _, status := range []int{429, 400} { // Meta's table says 400; the sim defaults to 429
		t.Run(fmt.Sprintf("throttled %d", status), func(t *testing.T) {
			t.Parallel()
			s, base := startSim(t, metasim.WithThrottleStatus(status))
			s.SetFailNext(130429, "")
			_, err := client(t, base, token).Send(ctx, msg)
			var thr *channel.ThrottledError
			if !errors.As(err, &thr) || thr.Code != "130429" || thr.RetryAfter != time.Second { // the number's pace: a second
				t.Fatalf("throttled: %v", err)
			}
		})
	}
	t.Run("pair rate limit", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t)
		s.SetFailNext(131056, "")
		_, err := client(t, base, token).Send(ctx, msg)
		var thr *channel.ThrottledError
		if !errors.As(err, &thr) || thr.Code != "131056" {
			t.Fatalf("throttled: %v", err)
		}
	})
	t.Run("re-engagement", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t)
		s.SetLastInbound(phoneID, "5511987654321", time.Time{}) // the 24-hour window is closed
		_, err := client(t, base, token).Send(ctx, msg)
		var se *channel.SendError
		if !errors.As(err, &se) || !se.Permanent || se.Code != "131047" || se.Title == "" {
			t.Fatalf("re-engagement: %v", err)
		}
	})
	t.Run("server error", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t)
		s.SetFailNext(131000, "")
		_, err := client(t, base, token).Send(ctx, msg)
		var se *channel.SendError
		var thr *channel.ThrottledError
		if err == nil || errors.As(err, &thr) || (errors.As(err, &se) && se.Permanent) {
			t.Fatalf("5xx: %v", err)
		}
	})
	t.Run("network", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t)
		s.Close()
		_, err := client(t, base, token).Send(ctx, msg)
		var se *channel.SendError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("network: %v", err)
		}
	})
	t.Run("no media link", func(t *testing.T) {
		t.Parallel()
		_, base := startSim(t)
		_, err := client(t, base, token).Send(ctx, channel.Outbound{To: customer, Kind: "image"})
		var se *channel.SendError
		if !errors.As(err, &se) || !se.Permanent {
			t.Fatalf("no link: %v", err)
		}
	})
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	const n = 230 // three pages of 100
	for i := range n {
		st, cat := metasim.TemplateApproved, metasim.CategoryUtility
		if i%3 == 0 {
			st, cat = metasim.TemplatePending, metasim.CategoryMarketing
		}
		s.AddTemplate(wabaID, metasim.Template{Name: fmt.Sprintf("t%03d", i), Language: "pt_BR", Status: st, Category: cat,
			Components: []map[string]any{{"type": "BODY", "text": "Oi"}}})
	}
	ts, err := client(t, base, token).Templates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != n {
		t.Fatalf("%d templates, want %d", len(ts), n)
	}
	seen := map[string]bool{}
	for _, tp := range ts {
		if seen[tp.Name] || tp.Language != "pt_BR" || tp.Status == "" || tp.Category == "" || tp.ID == "" {
			t.Fatalf("template %+v (seen %v)", tp, seen[tp.Name])
		}
		seen[tp.Name] = true
	}
	if ts[0].Status != metasim.TemplatePending && ts[0].Status != metasim.TemplateApproved {
		t.Fatalf("status %q", ts[0].Status)
	}
	if _, err := client(t, base, "wrong").Templates(context.Background()); err == nil {
		t.Fatal("wrong token listed templates")
	}
}

func TestMarkRead(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	ctx := context.Background()
	wamid, _, err := s.InboundText(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Ana"}, "oi")
	if !errors.Is(err, metasim.ErrNoWebhookURL) && err != nil {
		t.Fatal(err)
	}
	if wamid == "" {
		w, m, err := s.BuildInbound(phoneID, metasim.Sender{WaID: "5511987654321"}, metasim.Message{Type: "text", Text: &metasim.Text{Body: "oi"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = w
		wamid = m.ID
	}
	c := client(t, base, token)
	if err := c.MarkRead(ctx, wamid); err != nil {
		t.Fatal(err)
	}
	if got := s.MarkedRead(); len(got) != 1 || got[0] != wamid {
		t.Fatalf("marked read %v", got)
	}
	if err := c.MarkRead(ctx, "wamid.unknown"); err == nil {
		t.Fatal("unknown wamid marked read")
	}
}

func TestSendHeaderMedia(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	s.AddTemplate(wabaID, metasim.Template{
		Name: "promo_img", Language: "pt_BR", Status: metasim.TemplateApproved, Category: metasim.CategoryMarketing,
		Components: []map[string]any{{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Oi {{1}}"}},
	})
	s.AddTemplate(wabaID, metasim.Template{
		Name: "boleto", Language: "pt_BR", Status: metasim.TemplateApproved, Category: metasim.CategoryUtility,
		Components: []map[string]any{{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Segue"}},
	})
	c := client(t, base, token)
	ctx := context.Background()
	img := &channel.Attachment{MIME: "image/png", Filename: "promo.png", Size: 10, URL: "https://files.example.com/promo.png?sig=1"}

	if _, err := c.Send(ctx, channel.Outbound{To: customer, Kind: "template", Template: &channel.Template{
		Name: "promo_img", Language: "pt_BR", Params: []string{"Ana"}, HeaderMedia: img}}); err != nil {
		t.Fatal(err)
	}
	pdf := &channel.Attachment{MIME: "application/pdf", Filename: "boleto.pdf", URL: "https://files.example.com/b.pdf"}
	if _, err := c.Send(ctx, channel.Outbound{To: customer, Kind: "template", Template: &channel.Template{
		Name: "boleto", Language: "pt_BR", HeaderMedia: pdf, HeaderKind: "document"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.WaitSent(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].HeaderMediaType != "image" || got[0].HeaderMediaLink != img.URL {
		t.Fatalf("image header: %+v", got[0])
	}
	if got[1].HeaderMediaType != "document" || got[1].HeaderMediaLink != pdf.URL || got[1].HeaderFilename != "boleto.pdf" {
		t.Fatalf("document header: %+v", got[1])
	}
	// The wire shape of providers.md §4.2.
	var raw struct {
		Template struct {
			Components []struct {
				Type       string            `json:"type"`
				Parameters []json.RawMessage `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	if err := json.Unmarshal(got[0].Raw, &raw); err != nil || len(raw.Template.Components) != 2 || raw.Template.Components[0].Type != "header" ||
		string(raw.Template.Components[0].Parameters[0]) != `{"type":"image","image":{"link":"https://files.example.com/promo.png?sig=1"}}` {
		t.Fatalf("header JSON %s", got[0].Raw)
	}

	// Without the media, or with media of another kind, Meta refuses the send for good.
	var se *channel.SendError
	_, err = c.Send(ctx, channel.Outbound{To: customer, Kind: "template", Template: &channel.Template{Name: "promo_img", Language: "pt_BR", Params: []string{"Ana"}}})
	if !errors.As(err, &se) || !se.Permanent || se.Code != "132000" {
		t.Fatalf("no header media: %v", err)
	}
	_, err = c.Send(ctx, channel.Outbound{To: customer, Kind: "template", Template: &channel.Template{
		Name: "promo_img", Language: "pt_BR", Params: []string{"Ana"}, HeaderMedia: pdf}})
	if !errors.As(err, &se) || !se.Permanent || se.Code != "132012" {
		t.Fatalf("a document for an image header: %v", err)
	}
}
