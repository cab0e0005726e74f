package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// inboxSetup is an org whose owner logs in through the form.
type inboxSetup struct {
	inst            *webtest.Instance
	email, password string
	home            string
	orgID           int64
}

func newInboxSetup(t *testing.T) *inboxSetup {
	t.Helper()
	inst := webtest.Start(t)
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("rita.%d@floricultura.example", time.Now().UnixNano()), password: "girassol-Orquidea-42-vaso"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Floricultura Jardim", "Rita Alves", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)
	return s
}

func (s *inboxSetup) login(b *browser) {
	b.t.Helper()
	b.open("/login", tid("login-email"))
	b.do("log in",
		chromedp.SendKeys(tid("login-email"), s.email),
		chromedp.SendKeys(tid("login-password"), s.password),
		chromedp.Click(tid("login-submit")),
	)
	b.waitPath("land on the org", orgPathRE.String())
}

// channel is the org's only channel.
func (s *inboxSetup) channel(t *testing.T) model.Channel {
	t.Helper()
	chs, err := s.inst.App.Inbox.Channels(context.Background(), s.orgID)
	if err != nil || len(chs) == 0 {
		t.Fatalf("channels: %v %d", err, len(chs))
	}
	return chs[0]
}

func (s *inboxSetup) receive(t *testing.T, ch model.Channel, from, name, body string) inbox.Received {
	t.Helper()
	r, err := s.inst.App.Inbox.Receive(context.Background(), ch, inbox.Inbound{From: from, Name: name, Body: body, ProviderID: fmt.Sprintf("in.%d", time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestInboxLive connects a sandbox channel through the settings page, sees a customer's
// message arrive in the open inbox, answers it from the composer and watches the ticks
// reach "read", all without reloading.
func TestInboxLive(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	s := newInboxSetup(t)
	b := newBrowser(t, ctx, "inbox", s.inst.URL)
	s.login(b)

	b.open(s.home+"/settings/channels", tid("channel-form"))
	b.do("connect a sandbox channel",
		chromedp.SendKeys(tid("channel-name"), "Loja"),
		chromedp.Click(tid("channel-submit")),
		chromedp.WaitVisible(tid("channel-row")),
	)
	ch := s.channel(t)
	if ch.Kind != model.KindSandbox || ch.Name != "Loja" {
		t.Fatalf("channel: %+v", ch)
	}

	b.open(s.home+"/inbox", tid("inbox-list"))
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	r := s.receive(t, ch, "+5511987654321", "Joana Prado", "Vocês têm rosas vermelhas?")
	item := fmt.Sprintf(`[data-testid="inbox-item"][data-conversation-id="%d"]`, r.ConversationID)
	b.waitJS("the message shows in the list", `!!document.querySelector(`+jsString(item)+`)`, waitTimeout)
	b.waitJS("the title counts it", `document.title.startsWith("(1) ")`, waitTimeout)

	b.do("search for someone else", chromedp.SendKeys(tid("inbox-search"), "Bruno"))
	b.waitJS("the list empties", `!document.querySelector(`+jsString(item)+`)`, waitTimeout)
	b.waitJS("the URL keeps the search", `location.search.includes("q=Bruno")`, waitTimeout)
	b.do("clear the search", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="inbox-search"]').value = ""`), chromedp.SendKeys(tid("inbox-search"), "Joana"))
	b.waitJS("the conversation is found", `!!document.querySelector(`+jsString(item)+`)`, waitTimeout)

	b.do("open the conversation", chromedp.Click(item), chromedp.WaitVisible(tid("composer-body")))
	b.waitPath("the URL names the conversation", fmt.Sprintf(`^/o/%d/inbox/%d$`, s.orgID, r.ConversationID))
	b.waitJS("the thread shows the message", `[...document.querySelectorAll('[data-direction="in"] [data-testid="msg-body"]')].some(e => e.textContent.includes("rosas vermelhas"))`, waitTimeout)
	b.waitJS("the title has no unread count", `!document.title.startsWith("(")`, waitTimeout)

	// A second message arrives in the open thread.
	s.receive(t, ch, "+5511987654321", "", "E girassóis?")
	b.waitJS("the new message shows in the thread", `[...document.querySelectorAll('[data-direction="in"] [data-testid="msg-body"]')].some(e => e.textContent.includes("girassóis"))`, waitTimeout)

	// Reply with Enter; the box empties and the ticks move to read.
	b.do("type a reply and press Enter",
		chromedp.Click(tid("composer-body")),
		chromedp.SendKeys(tid("composer-body"), "Temos sim! Quantas você quer?"),
		chromedp.KeyEvent(kb.Enter),
	)
	out := `[data-direction="out"] [data-testid="msg-status"]`
	b.waitJS("the reply shows in the thread", `!!document.querySelector(`+jsString(out)+`)`, waitTimeout)
	b.waitJS("the composer is empty", `document.querySelector('[data-testid="composer-body"]').value === ""`, waitTimeout)
	b.waitJS("the reply is read", `document.querySelector(`+jsString(out)+`).dataset.status === "read"`, waitTimeout)
	if n := eval[int](b, `document.querySelectorAll('[data-direction="out"]').length`); n != 1 {
		t.Errorf("the reply shows %d times", n)
	}

	// An internal note; Shift+Enter keeps the box multi-line.
	b.do("write a note",
		chromedp.Click(`[data-composer] .segmented-item:has([value="note"])`),
		chromedp.SendKeys(tid("composer-body"), "Cliente fiel"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(tid("composer-body"), "prefere entrega à tarde"),
	)
	if v := eval[string](b, `document.querySelector('[data-testid="composer-body"]').value`); v != "Cliente fiel\nprefere entrega à tarde" {
		t.Errorf("Shift+Enter: %q", v)
	}
	b.do("add the note", chromedp.KeyEvent(kb.Enter))
	b.waitJS("the note shows", `[...document.querySelectorAll('[data-direction="note"]')].some(e => e.textContent.includes("Cliente fiel"))`, waitTimeout)

	// Close it: the header updates live.
	b.do("close the conversation",
		chromedp.Click(tid("inbox-actions")),
		chromedp.Click(tid("inbox-status-closed")),
	)
	b.waitJS("the header says closed", `document.querySelector('[data-testid="inbox-conv-status"]').textContent.trim() === "Resolved"`, waitTimeout)
	b.noConsoleErrors()
}

// TestInboxScreenshots writes pictures of the inbox when MASTERIA_SCREENSHOTS names a folder.
func TestInboxScreenshots(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the inbox")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 4*testTimeout)
	s := newInboxSetup(t)
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"WhatsApp Loja"}}); res.StatusCode != 303 {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	ch := s.channel(t)
	first := s.receive(t, ch, "+5511987650010", "Joana Prado", "Oi! Vocês têm rosas vermelhas para entrega amanhã de manhã?")
	s.receive(t, ch, "+5511987650011", "Pedro Henrique Almeida", "Qual o valor do buquê de girassóis?")
	s.receive(t, ch, "+5511987650012", "", "Bom dia")
	s.receive(t, ch, "+5511987650013", "Luíza", "Obrigada, chegou tudo certo 🌷")
	conv := fmt.Sprintf("%s/inbox/%d", s.home, first.ConversationID)
	for _, body := range []string{"Temos sim! Quantas você quer?", "O buquê com 12 sai por R$ 120,00."} {
		if res := c.Post(conv+"/messages", url.Values{"body": {body}}); res.StatusCode != 303 {
			t.Fatalf("reply: %d", res.StatusCode)
		}
	}
	s.receive(t, ch, "+5511987650010", "", "Perfeito, quero 12. Pode entregar às 9h?")
	if res := c.Post(conv+"/notes", url.Values{"body": {"Cliente fiel, prefere entrega de manhã."}}); res.StatusCode != 303 {
		t.Fatalf("note: %d", res.StatusCode)
	}
	for _, label := range []string{"entrega", "vip"} {
		if res := c.Post(conv+"/labels", url.Values{"label": {label}}); res.StatusCode >= 400 {
			t.Fatalf("label: %d", res.StatusCode)
		}
	}
	if res := c.Post(s.home+"/settings/quick-replies", url.Values{"shortcut": {"horario"}, "title": {"Horário"},
		"body": {"Oi {{nome}}! Abrimos de segunda a sábado, das 8h às 19h."}}); res.StatusCode >= 400 {
		t.Fatalf("quick reply: %d", res.StatusCode)
	}
	res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppQR}, "name": {"WhatsApp do celular"}})
	if res.StatusCode != 303 {
		t.Fatalf("qr channel: %d", res.StatusCode)
	}
	connect := res.Header.Get("Location")
	var qrID int64
	_, _ = fmt.Sscanf(connect, s.home+"/settings/channels/%d/connect", &qrID)
	if err := s.inst.App.Store.PutQRCode(context.Background(), s.orgID, qrID, "2@Zm9vYmFy,cXJjb2Rl,a2V5cw==", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the sandbox reports read
	b := newBrowser(t, ctx, "inbox-shots", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	for _, l := range looks {
		b.setLook(l)
		b.open(s.home+"/inbox", tid("inbox-list"))
		b.save(dir, "inbox-list-"+l.name, l)
		b.open(conv, tid("composer"))
		b.save(dir, "inbox-thread-"+l.name, l)
		if l.name == "phone" {
			b.do("open the details", chromedp.Click(tid("inbox-details")))
			b.save(dir, "inbox-details-"+l.name, l)
		}
		b.open(s.home+"/settings/channels", tid("channel-form"))
		b.save(dir, "channels-"+l.name, l)
		b.open(connect, tid("qr-code"))
		b.save(dir, "channel-qr-"+l.name, l)
		b.open(s.home+"/settings/inbox", tid("inbox-settings-form"))
		b.save(dir, "settings-inbox-"+l.name, l)
		b.open(s.home+"/settings/quick-replies", tid("quick-replies"))
		b.save(dir, "quick-replies-"+l.name, l)
	}
	b.noConsoleErrors()
}
