package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"masteria/app/config"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/store"
	"masteria/app/web/webtest"
)

// TestWhatsAppCloudInboxLive drives the whole WhatsApp Cloud path in a browser against the
// Meta simulator: the owner connects the channel through the settings form, a customer's
// message posted by the simulator to the webhook (signed, in Meta's shape) appears in the open
// inbox without a reload, the owner answers from the composer, the simulator receives the send,
// and its status webhooks move the ticks to "read" on the page; a photo the customer sends is
// downloaded from Meta and shows in the open thread.
func TestWhatsAppCloudInboxLive(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	ms := metasim.New(metasim.WithStatusDelays(150*time.Millisecond, 300*time.Millisecond, 600*time.Millisecond))
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("caio.%d@padaria.example", time.Now().UnixNano()), password: "pao-de-queijo-Quentinho-77"}
	s.home = webtest.NewClient(t, inst.URL).Signup("Padaria Trigo Bom", "Caio Lima", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)

	b := newBrowser(t, ctx, "whatsapp", inst.URL)
	s.login(b)
	const phoneID, wabaID, token, secret = "106540352242922", "102290129340398", "EAAG-browser-token", "browser-app-secret"
	b.open(s.home+"/settings/channels", tid("channel-form"))
	b.do("choose WhatsApp Cloud API", chromedp.Click(tid("channel-kind-"+model.KindWhatsAppCloud)))
	b.waitJS("its fields show", `document.querySelector('[data-testid="channel-fields"]').dataset.kind === "whatsapp_cloud"`, waitTimeout)
	b.do("fill in the number's settings",
		chromedp.SendKeys(tid("channel-name"), "WhatsApp da padaria"),
		chromedp.SendKeys(`#channel-phone_number_id`, phoneID),
		chromedp.SendKeys(`#channel-waba_id`, wabaID),
		chromedp.SendKeys(`#channel-access_token`, token),
		chromedp.SendKeys(`#channel-app_secret`, secret),
		chromedp.SendKeys(`#channel-verify_token`, "padaria-verifica"),
		chromedp.Click(tid("channel-submit")),
		chromedp.WaitVisible(tid("channel-created")),
	)
	ch := s.channel(t)
	if ch.Kind != model.KindWhatsAppCloud {
		t.Fatalf("channel: %+v", ch)
	}
	hook := fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, ch.ID)
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: "+1 555-078-3881",
		AccessToken: token, AppSecret: secret, WebhookURL: hook})
	if challenge, status, err := ms.Verify(ctx, hook, "padaria-verifica"); err != nil || status != http.StatusOK || challenge == "" {
		t.Fatalf("webhook verification: %q %d %v", challenge, status, err)
	}

	b.open(s.home+"/inbox", tid("inbox-list"))
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	if _, status, err := ms.InboundText(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Dona Marta"}, "Bom dia! Tem pão de queijo saindo agora?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound webhook: %d %v", status, err)
	}
	item := `[data-testid="inbox-item"]`
	b.waitJS("the message shows in the list", `[...document.querySelectorAll(`+jsString(item)+`)].some(e => e.textContent.includes("Dona Marta"))`, waitTimeout)
	b.waitJS("the title counts it", `document.title.startsWith("(1) ")`, waitTimeout)

	b.do("open the conversation", chromedp.Click(item), chromedp.WaitVisible(tid("composer-body")))
	b.waitJS("the thread shows the message", `[...document.querySelectorAll('[data-direction="in"] [data-testid="msg-body"]')].some(e => e.textContent.includes("pão de queijo"))`, waitTimeout)
	b.do("answer it",
		chromedp.Click(tid("composer-body")),
		chromedp.SendKeys(tid("composer-body"), "Bom dia! Sai uma fornada às 8h."),
		chromedp.KeyEvent(kb.Enter),
	)
	sent, err := ms.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Type != "text" || sent[0].Text != "Bom dia! Sai uma fornada às 8h." || sent[0].WaID != "5511987654321" {
		t.Fatalf("the simulator received %+v", sent[0])
	}
	out := `[data-direction="out"] [data-testid="msg-status"]`
	b.waitJS("the reply's ticks reach read", `document.querySelector(`+jsString(out)+`)?.dataset.status === "read"`, waitTimeout)
	if n := eval[int](b, `document.querySelectorAll('[data-direction="out"]').length`); n != 1 {
		t.Errorf("the reply shows %d times", n)
	}
	// A photo from the customer: downloaded from Meta by a job, then shown in the open thread.
	if _, status, err := ms.InboundMedia(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Dona Marta"},
		metasim.MediaFile{Type: "image", Data: testPNG(t), Caption: "Este aqui"}); err != nil || status != http.StatusOK {
		t.Fatalf("inbound photo: %d %v", status, err)
	}
	b.waitJS("the photo shows in the thread", `[...document.querySelectorAll('[data-testid="msg-image"] img')].some(i => i.complete && i.naturalWidth === 40)`, waitTimeout)
	// A photo from the agent with a caption, then a plain text: the file goes once, with the
	// first message only (the composer used to keep it and send it again with the next).
	pic := filepath.Join(t.TempDir(), "cardapio.png")
	if err := os.WriteFile(pic, testPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("attach a photo", chromedp.SetUploadFiles(tid("composer-file"), []string{pic}))
	b.waitJS("the file's name shows", `document.querySelector('[data-testid="composer-file-name"]').textContent === "cardapio.png"`, waitTimeout)
	b.do("send it with a caption",
		chromedp.SendKeys(tid("composer-body"), "Nosso cardápio"),
		chromedp.Click(tid("composer-send")),
	)
	if sent, err = ms.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if sent[1].Type != "image" || sent[1].Caption != "Nosso cardápio" {
		t.Fatalf("the photo reached the simulator as %+v", sent[1])
	}
	b.waitJS("the composer lets the file go", `document.querySelector('[data-testid="composer-file"]').files.length === 0 && document.querySelector('[data-testid="composer-file-name"]').hidden`, waitTimeout)
	b.do("send a text after it",
		chromedp.SendKeys(tid("composer-body"), "Abrimos às 7h."),
		chromedp.KeyEvent(kb.Enter),
	)
	if sent, err = ms.WaitSent(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if sent[2].Type != "text" || sent[2].Text != "Abrimos às 7h." || sent[2].MediaID != "" {
		t.Fatalf("the text after a photo reached the simulator as %+v", sent[2])
	}
	var images int
	_ = inst.App.Store.DB().Get(&images, `SELECT count(*) FROM messages WHERE direction = 'out' AND kind = 'image'`)
	if images != 1 {
		t.Fatalf("%d photos sent, want 1", images)
	}
	// Meta learns the customer's message was read when the agent opened it (blue ticks).
	waitFor(t, ctx, "the customer's message marked read at Meta", func() bool { return len(ms.MarkedRead()) > 0 })
	b.noConsoleErrors()
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: timed out", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testPNG is a 40×30 picture.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: uint8(6 * x), G: 120, B: uint8(8 * y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWhatsAppQRConnectLive opens the connect page of a QR channel and plays the session
// manager's part (store the code and tell the org, as wameow.Manager does when whatsmeow
// hands it one): each new code replaces the drawn one without a reload, and once the phone
// is linked the page shows the number.
func TestWhatsAppQRConnectLive(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	s := newInboxSetup(t)
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppQR}, "name": {"Celular da loja"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", res.StatusCode)
	}
	connect := res.Header.Get("Location")
	ch := s.channel(t)
	st := s.inst.App.Store
	manager := func(ev events.Pending, change func(tx *store.Store) error) {
		t.Helper()
		err := st.Tx(context.Background(), func(tx *store.Store) error {
			if err := change(tx); err != nil {
				return err
			}
			return ev.Publish(context.Background(), tx, s.orgID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, ctx, "qr", s.inst.URL)
	s.login(b)
	b.open(connect, tid("qr-waiting"))
	b.waitJS("the page listens", sseOpen, waitTimeout)
	drawn := `(document.querySelector('[data-testid="qr-code"] path') || {getAttribute: () => ""}).getAttribute("d")`
	var first string
	for i, code := range []string{"2@Zm9vYmFy,cXJjb2Rl,a2V5cw==", "2@c2Vjb25k,Y29kZQ==,bmV3"} {
		expires := time.Now().Add(20 * time.Second)
		manager(events.ChannelQR.With(events.ChannelCode{ID: ch.ID, ExpiresAt: expires}), func(tx *store.Store) error {
			return tx.PutQRCode(context.Background(), s.orgID, ch.ID, code, expires)
		})
		if i == 0 {
			b.waitJS("the first code is drawn", drawn+` !== ""`, waitTimeout)
			first = eval[string](b, drawn)
		} else {
			b.waitJS("the next code replaces it", drawn+` !== "" && `+drawn+` !== `+jsString(first), waitTimeout)
		}
	}
	manager(events.ChannelStatus.With(events.ChannelState{ID: ch.ID, Status: "connected"}), func(tx *store.Store) error {
		_, err := tx.SetQRState(context.Background(), s.orgID, ch.ID, "connected", "", map[string]string{"phone": "+5511987654321"})
		return err
	})
	b.waitJS("the linked number shows", `(document.querySelector('[data-testid="qr-connected"]') || {textContent: ""}).textContent.includes("98765-4321")`, waitTimeout)
	b.noConsoleErrors()
}
