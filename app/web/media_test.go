package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/twiliosim"
	"masteria/app/web/webtest"
)

// pngBytes is a small real PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postFile sends the composer's multipart form as htmx does.
func postFile(t *testing.T, c *webtest.Client, path, caption, name, contentType string, data []byte) *webtest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("body", caption)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", contentType)
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.CSRF())
	req.Header.Set("HX-Request", "true")
	return c.Do(req)
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// messageFiles are the files a message's content lists.
func messageFiles(t *testing.T, inst *webtest.Instance, messageID int64) []model.File {
	t.Helper()
	var content []byte
	if err := inst.App.Store.DB().Get(&content, `SELECT content FROM messages WHERE id = $1`, messageID); err != nil {
		t.Fatal(err)
	}
	return model.Message{Content: content}.Files()
}

func countMedia(inst *webtest.Instance) int {
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM media`)
	return n
}

// TestWhatsAppMediaBothWays: a customer's photo from the Graph API simulator is downloaded
// and served to the org's members only, a retried download keeps one file, and an agent's
// attachment reaches Meta as an uploaded media id; wrong files are refused and stored nowhere.
func TestWhatsAppMediaBothWays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms := metasim.New()
	ms.SetAutoStatuses()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Fotos", "Fabi", uniqueEmail("fabi"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	ms.AddNumber(metasim.Number{PhoneNumberID: "777", WABAID: "888", DisplayNumber: "5511900000000", AccessToken: "EAAmedia", AppSecret: "sec"})
	wa, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "777", "waba_id": "888"},
		map[string]string{"app_secret": "sec", "verify_token": "vt", "access_token": "EAAmedia"})
	if err != nil {
		t.Fatal(err)
	}
	ms.SetWebhookURL("777", fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, wa.ID))

	photo := pngBytes(t)
	_, status, err := ms.InboundMedia(ctx, "777", metasim.Sender{WaID: "5511987650000", Name: "Bia"}, metasim.MediaFile{Type: "image", Data: photo, Caption: "Olha a peça"})
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound image: %d %v", status, err)
	}
	var msgID, convID int64
	_ = inst.App.Store.DB().QueryRow(`SELECT id, conversation_id FROM messages WHERE direction = 'in'`).Scan(&msgID, &convID)
	waitFor(t, "the photo's download", func() bool { return len(messageFiles(t, inst, msgID)) == 1 })
	file := messageFiles(t, inst, msgID)[0]
	if file.MIME != "image/png" || file.Size != int64(len(photo)) {
		t.Fatalf("stored file %+v", file)
	}

	// The member gets the bytes, with the headers that keep them from being run as a page.
	res := c.Get(fmt.Sprintf("%s/media/%d", home, file.ID))
	if res.StatusCode != http.StatusOK || res.Body != string(photo) {
		t.Fatalf("serve: %d (%d bytes)", res.StatusCode, len(res.Body))
	}
	for h, want := range map[string]string{"Content-Type": "image/png", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// The thread shows it inline.
	if th := c.Get(fmt.Sprintf("%s/inbox/%d/thread", home, convID), "HX-Request", "true"); !strings.Contains(th.Body, `data-testid="msg-image"`) {
		t.Fatalf("thread without the image: %s", webtest.Text(th.Body))
	}
	// Another org's member gets 404 for the same id; so does a bad id.
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra Loja", "Olga", uniqueEmail("olga"), strongPassword)
	if res := other.Get(fmt.Sprintf("%s/media/%d", otherHome, file.ID)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("other org: %d", res.StatusCode)
	}
	if res := c.Get(home + "/media/abc"); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad id: %d", res.StatusCode)
	}

	// A retry after the files were recorded changes nothing; one that lost the record
	// (a crash between download and update) finds the stored bytes again.
	if err := inst.App.Inbox.FetchMedia(ctx, orgID, msgID); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.Store.DB().Exec(`UPDATE messages SET content = content - 'files' WHERE id = $1`, msgID); err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Inbox.FetchMedia(ctx, orgID, msgID); err != nil {
		t.Fatal(err)
	}
	if again := messageFiles(t, inst, msgID); len(again) != 1 || again[0].ID != file.ID || countMedia(inst) != 1 {
		t.Fatalf("retried download: %+v, %d media rows", again, countMedia(inst))
	}

	// Outbound: the agent attaches a photo with a caption.
	send := fmt.Sprintf("%s/inbox/%d/messages", home, convID)
	res = postFile(t, c, send, "Segue a foto", "peca.png", "image/png", photo)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="msg-image"`) {
		t.Fatalf("attach: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	sent, err := ms.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Type != "image" || sent[0].MediaID == "" || sent[0].MediaLink != "" || sent[0].Caption != "Segue a foto" {
		t.Fatalf("sent %+v", sent[0])
	}
	if up, typ, ok := ms.MediaBytes(sent[0].MediaID); !ok || !bytes.Equal(up, photo) || typ != "image/png" {
		t.Fatalf("uploaded %d bytes of %s (%v)", len(up), typ, ok)
	}

	// Refused files: the reason, and nothing stored.
	before := countMedia(inst)
	for name, tc := range map[string]struct {
		file, typ string
		data      []byte
		key       string
	}{
		"html":       {"x.html", "text/html", []byte("<script>alert(1)</script>"), "This type of file cannot be sent"},
		"executable": {"x.exe", "application/octet-stream", []byte("MZ\x90\x00"), "This type of file cannot be sent"},
		"big photo":  {"big.png", "image/png", append(append([]byte{}, photo...), make([]byte, 5<<20)...), "This file is too big"},
		"empty":      {"e.pdf", "application/pdf", nil, "This file is empty"},
	} {
		res := postFile(t, c, send, "", tc.file, tc.typ, tc.data)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.key) {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	if n := countMedia(inst); n != before {
		t.Fatalf("refused files stored %d rows", n-before)
	}
}

// TestTwilioMMSBothWays: an MMS photo is downloaded from Twilio with the account's
// credentials, and an agent's attachment goes to Twilio as a signed link that works
// without a session, unlike a forged one.
func TestTwilioMMSBothWays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := twiliosim.New()
	api, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.TwilioAPIURL = api })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja SMS", "Sara", uniqueEmail("sara"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	const sid = "AC0123456789abcdef0123456789abcdef"
	tw, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindTwilioSMS, "SMS", map[string]string{"account_sid": sid, "from": "+5511900000001"}, map[string]string{"auth_token": "tw-token"})
	if err != nil {
		t.Fatal(err)
	}
	ts.AddAccount(sid, "tw-token")
	numberSid, err := ts.AddNumber(sid, "+5511900000001", fmt.Sprintf("%s/webhooks/twilio/%d", inst.App.Config.BaseURL, tw.ID))
	if err != nil {
		t.Fatal(err)
	}
	photo := pngBytes(t)
	if res, err := ts.Inbound(ctx, numberSid, "+5511987650001", "Foto do produto", twiliosim.WithMediaFile(photo, "image/png")); err != nil || res.Status != http.StatusOK {
		t.Fatalf("inbound MMS: %+v %v", res, err)
	}
	var msgID, convID int64
	_ = inst.App.Store.DB().QueryRow(`SELECT id, conversation_id FROM messages WHERE direction = 'in'`).Scan(&msgID, &convID)
	waitFor(t, "the MMS download", func() bool { return len(messageFiles(t, inst, msgID)) == 1 })
	f := messageFiles(t, inst, msgID)[0]
	if res := c.Get(fmt.Sprintf("%s/media/%d", home, f.ID)); res.StatusCode != http.StatusOK || res.Body != string(photo) {
		t.Fatalf("serve MMS photo: %d", res.StatusCode)
	}

	res := postFile(t, c, fmt.Sprintf("%s/inbox/%d/messages", home, convID), "Aqui está", "foto.png", "image/png", photo)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("attach: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	sent, err := ts.WaitSent(ctx, 1)
	if err != nil || len(sent[0].MediaURLs) != 1 || sent[0].Body != "Aqui está" {
		t.Fatalf("sent %+v %v", sent, err)
	}
	link := sent[0].MediaURLs[0]
	if !strings.HasPrefix(link, inst.App.Config.BaseURL+"/media/") {
		t.Fatalf("media link %q", link)
	}
	anon := &http.Client{Timeout: 10 * time.Second}
	got, err := anon.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != http.StatusOK || !bytes.Equal(b, photo) {
		t.Fatalf("signed link: %d (%d bytes)", got.StatusCode, len(b))
	}
	// A CDN in front of the app may keep the file while the link lives (at most a day).
	if cc := got.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=8") {
		t.Fatalf("signed link's Cache-Control %q", cc)
	}
	forged, _ := anon.Get(link[:len(link)-4] + "AAAA")
	if forged.StatusCode != http.StatusNotFound {
		t.Fatalf("forged link: %d", forged.StatusCode)
	}
	forged.Body.Close()
}

// templateComponents is a Graph template's components with a body of n variables.
func templateComponents(body string) []map[string]any {
	return []map[string]any{{"type": "BODY", "text": body}}
}

// TestTemplatesSyncAndSend: creating a WhatsApp Cloud channel syncs every page of its
// templates; the settings page lists them; the composer's picker sends an approved one
// with the right number of parameters while free text is refused outside the window; the
// API sends one to a phone and lists them, with stable error codes.
func TestTemplatesSyncAndSend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms := metasim.New()
	ms.SetAutoStatuses()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	ms.AddNumber(metasim.Number{PhoneNumberID: "321", WABAID: "654", DisplayNumber: "5511900000000", AccessToken: "EAAtpl", AppSecret: "sec"})
	// More than one page (the client asks 100 a page).
	for i := range 130 {
		ms.AddTemplate("654", metasim.Template{Name: fmt.Sprintf("aviso_%03d", i), Language: "pt_BR", Components: templateComponents("Aviso {{1}}")})
	}
	ms.AddTemplate("654", metasim.Template{Name: "pedido_enviado", Language: "pt_BR", Category: metasim.CategoryUtility,
		Components: templateComponents("Olá {{1}}, seu pedido {{2}} saiu para entrega.")})
	ms.AddTemplate("654", metasim.Template{Name: "promo_pendente", Language: "pt_BR", Status: metasim.TemplatePending, Components: templateComponents("Promo")})

	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Modelos", "Tina", uniqueEmail("tina"), strongPassword)
	res := c.Post(home+"/settings/channels", map[string][]string{
		"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp"}, "phone_number_id": {"32100"}, "waba_id": {"65400"},
		"access_token": {"EAAtpl"}, "app_secret": {"sec"}, "verify_token": {"vt"},
	})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	row := channelByName(t, inst, "WhatsApp")
	// The form wants ids of 5+ digits; point the row at the sim's number and sync again.
	if _, err := inst.App.Store.DB().Exec(`UPDATE channels SET config = config || '{"phone_number_id":"321","waba_id":"654"}' WHERE id = $1`, row.ID); err != nil {
		t.Fatal(err)
	}
	if res := c.Post(fmt.Sprintf("%s/settings/channels/%d/templates/sync", home, row.ID), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync: %d", res.StatusCode)
	}
	count := func() int {
		var n int
		_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM message_templates WHERE channel_id = $1`, row.ID)
		return n
	}
	waitFor(t, "the template sync", func() bool { return count() == 132 })
	page := c.Get(fmt.Sprintf("%s/settings/channels/%d/templates", home, row.ID))
	for _, want := range []string{"pedido_enviado", "aviso_129", "Olá {{1}}, seu pedido {{2}} saiu para entrega.", "badge-warning"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("templates page lacks %q", want)
		}
	}
	// Another org cannot see them.
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra", "Otto", uniqueEmail("otto"), strongPassword)
	if res := other.Get(fmt.Sprintf("%s/settings/channels/%d/templates", otherHome, row.ID)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("other org's templates page: %d", res.StatusCode)
	}

	// A customer wrote two days ago: the window is closed.
	ms.SetWebhookURL("321", fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, row.ID))
	if _, status, err := ms.InboundText(ctx, "321", metasim.Sender{WaID: "5511987650000", Name: "Bia"}, "Oi"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	var convID, tplID, pendingID int64
	_ = inst.App.Store.DB().Get(&convID, `SELECT id FROM conversations`)
	_, _ = inst.App.Store.DB().Exec(`UPDATE conversations SET last_inbound_at = now() - interval '2 days'`)
	_ = inst.App.Store.DB().Get(&tplID, `SELECT id FROM message_templates WHERE name = 'pedido_enviado'`)
	_ = inst.App.Store.DB().Get(&pendingID, `SELECT id FROM message_templates WHERE name = 'promo_pendente'`)
	if res := c.Post(fmt.Sprintf("%s/inbox/%d/messages", home, convID), map[string][]string{"body": {"Oi de novo"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("free text with the window closed: %d", res.StatusCode)
	}
	picker := c.Get(fmt.Sprintf("%s/inbox/%d/templates?q=pedido", home, convID), "HX-Request", "true")
	if !strings.Contains(picker.Body, `data-template="pedido_enviado"`) || strings.Contains(picker.Body, "aviso_001") || strings.Contains(picker.Body, "promo_pendente") {
		t.Fatalf("picker search: %s", webtest.Text(picker.Body))
	}
	// Case and accents do not matter ("Pedído" is how a hurried thumb types it).
	if picker := c.Get(fmt.Sprintf("%s/inbox/%d/templates?q=PED%%C3%%8DDO", home, convID), "HX-Request", "true"); !strings.Contains(picker.Body, `data-template="pedido_enviado"`) {
		t.Fatalf("picker search folded: %s", webtest.Text(picker.Body))
	}
	chosen := c.Get(fmt.Sprintf("%s/inbox/%d/templates?id=%d", home, convID, tplID), "HX-Request", "true")
	if strings.Count(chosen.Body, `data-testid="template-param"`) != 2 {
		t.Fatalf("picker fields: %s", webtest.Text(chosen.Body))
	}
	sendTpl := fmt.Sprintf("%s/inbox/%d/template", home, convID)
	for name, form := range map[string]map[string][]string{
		"one param":    {"template_id": {fmt.Sprint(tplID)}, "params": {"Bia"}},
		"empty param":  {"template_id": {fmt.Sprint(tplID)}, "params": {"Bia", " "}},
		"pending":      {"template_id": {fmt.Sprint(pendingID)}},
		"no template":  {"params": {"a", "b"}},
		"bad template": {"template_id": {"x"}, "params": {"a", "b"}},
	} {
		if res := c.Post(sendTpl, form); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if res := c.Post(sendTpl, map[string][]string{"template_id": {fmt.Sprint(tplID)}, "params": {"Bia"}}); !strings.Contains(res.Body, "Fill in every value") {
		t.Errorf("wrong count without its reason: %s", webtest.Text(res.Body))
	}
	res = c.Post(sendTpl, map[string][]string{"template_id": {fmt.Sprint(tplID)}, "params": {"Bia", "#123"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("template send: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	sent, err := ms.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Template struct {
			Components []struct {
				Type       string                  `json:"type"`
				Parameters []struct{ Text string } `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	_ = json.Unmarshal(sent[0].Raw, &req)
	if sent[0].Type != "template" || sent[0].Template != "pedido_enviado" || sent[0].Language != "pt_BR" ||
		len(req.Template.Components) != 1 || len(req.Template.Components[0].Parameters) != 2 || req.Template.Components[0].Parameters[1].Text != "#123" {
		t.Fatalf("sent %+v %s", sent[0], sent[0].Raw)
	}
	var body string
	_ = inst.App.Store.DB().Get(&body, `SELECT body FROM messages WHERE kind = 'template'`)
	if body != "Olá Bia, seu pedido #123 saiu para entrega." {
		t.Fatalf("stored body %q", body)
	}

	// The API.
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja Modelos", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	list := apiCall(t, c, key, "GET", fmt.Sprintf("/api/v1/channels/%d/templates", row.ID), "")
	if list.StatusCode != http.StatusOK || !strings.Contains(list.Body, `"name":"pedido_enviado"`) || !strings.Contains(list.Body, `"params":2`) {
		t.Fatalf("api templates: %d %.300s", list.StatusCode, list.Body)
	}
	if res := apiCall(t, c, key, "GET", "/api/v1/channels/999999/templates", ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("api templates of an unknown channel: %d", res.StatusCode)
	}
	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"bad json":        {`{"channel_id":`, http.StatusBadRequest, "bad_json"},
		"unknown field":   {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","template":{"name":"pedido_enviado","language":"pt_BR","params":["a","b"],"x":1}}`, row.ID), http.StatusBadRequest, "bad_json"},
		"no language":     {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","template":{"name":"pedido_enviado"}}`, row.ID), http.StatusUnprocessableEntity, "invalid"},
		"unknown":         {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","template":{"name":"nada","language":"pt_BR"}}`, row.ID), http.StatusUnprocessableEntity, "template_not_found"},
		"pending":         {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","template":{"name":"promo_pendente","language":"pt_BR"}}`, row.ID), http.StatusUnprocessableEntity, "template_not_found"},
		"params":          {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","template":{"name":"pedido_enviado","language":"pt_BR","params":["a"]}}`, row.ID), http.StatusUnprocessableEntity, "template_params"},
		"text and tpl":    {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","text":"oi","template":{"name":"pedido_enviado","language":"pt_BR","params":["a","b"]}}`, row.ID), http.StatusUnprocessableEntity, "invalid"},
		"other channel":   {`{"channel_id":999999,"to":"+5511987650002","template":{"name":"pedido_enviado","language":"pt_BR","params":["a","b"]}}`, http.StatusNotFound, "not_found"},
		"text, no window": {fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","text":"oi"}`, row.ID), http.StatusUnprocessableEntity, "window_closed"},
	} {
		res := apiCall(t, c, key, "POST", "/api/v1/messages", tc.body)
		if res.StatusCode != tc.status || apiCode(t, res) != tc.code {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Body)
		}
	}
	var contacts int
	_ = inst.App.Store.DB().Get(&contacts, `SELECT count(*) FROM contacts WHERE phone = '+5511987650002'`)
	if contacts != 0 {
		t.Fatalf("refused sends created a contact")
	}
	res = apiCall(t, c, key, "POST", "/api/v1/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650002","template":{"name":"pedido_enviado","language":"pt_BR","params":["Caio","#9"]}}`, row.ID))
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("api template send: %d %s", res.StatusCode, res.Body)
	}
	sent, err = ms.WaitSent(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sent[1].Template != "pedido_enviado" || sent[1].WaID != "5511987650002" {
		t.Fatalf("api sent %+v", sent[1])
	}
}
