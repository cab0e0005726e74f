package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// pngFile is a small PNG: its first bytes make the type.
var pngFile = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 128)...)

// mediaPost posts a multipart form with files (name → filename, type, bytes); csrf false
// leaves the token out.
func mediaPost(t *testing.T, c *webtest.Client, base, path string, fields url.Values, files map[string][3]any, csrf bool) *webtest.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf {
		_ = w.WriteField("_csrf", c.CSRF())
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for name, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, f[0].(string)))
		h.Set("Content-Type", f[1].(string))
		fw, _ := w.CreatePart(h)
		_, _ = fw.Write(f[2].([]byte))
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.Do(req)
}

func (o *campaignOrg) variants(t *testing.T) []model.Variant {
	t.Helper()
	var raw string
	_ = o.inst.App.Store.DB().Get(&raw, `SELECT message::text FROM campaigns WHERE org_id = $1 ORDER BY id DESC LIMIT 1`, o.orgID)
	var m model.CampaignMessage
	_ = json.Unmarshal([]byte(raw), &m)
	return m.Variants
}

// TestCampaignHeaderMediaPages: on the Cloud API, a template with an image header shows
// an upload field; the file is stored as the inbox stores attachments and named by the
// variant, shown with a thumbnail and a replace action, and the preview shows it. Bad
// input is refused: a file too big, a wrong type, another org's file or campaign, an
// agent, a post without its CSRF token.
func TestCampaignHeaderMediaPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newCampaignOrg(t)
	wa, err := o.inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.orgID, Role: model.RoleOwner}, model.KindWhatsAppCloud, "WhatsApp",
		map[string]string{"phone_number_id": "1"}, map[string]string{"app_secret": "x"})
	if err != nil {
		t.Fatal(err)
	}
	comps, _ := json.Marshal([]map[string]string{{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Oi {{1}}, pão novo!"}})
	if err := o.inst.App.Store.ReplaceTemplates(ctx, o.orgID, wa.ID, []model.Template{{OrgID: o.orgID, ChannelID: wa.ID, ProviderID: "t1",
		Name: "pao_foto", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: comps}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var tid int64
	_ = o.inst.App.Store.DB().Get(&tid, `SELECT id FROM message_templates WHERE org_id = $1`, o.orgID)
	base := o.build(t, "x")
	if res := o.owner.Post(base+"/edit?step=channel", url.Values{"channel_id": {fmt.Sprint(wa.ID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	// Choosing the template shows the upload field.
	res := o.owner.Get(fmt.Sprintf("%s/variant?i=0&v0_template_id=%d", base, tid), "HX-Request", "true")
	if res.StatusCode != 200 || !strings.Contains(res.Body, `data-testid="v0-media-file"`) || !strings.Contains(res.Body, `accept="image/jpeg,image/png"`) ||
		!strings.Contains(webtest.Text(res.Body), "Image at the top of the message") {
		t.Fatalf("variant block: %d %s", res.StatusCode, res.Body)
	}
	form := url.Values{"v0_template_id": {fmt.Sprint(tid)}, "v0_var0": {"field:first_name"}, "v0_var0_fallback": {"cliente"}}

	// Saved without the file, the draft cannot launch and says why.
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", form, nil, true); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("message without the file: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Post(base+"/launch", nil); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(res.Body), "Add the file") {
		t.Fatalf("launch without the file: %d %s", res.StatusCode, webtest.Text(res.Body))
	}

	// Refused files: too big for an image, a type WhatsApp does not send, a PDF where the
	// template shows an image. Nothing is named by the variant.
	for name, f := range map[string][3]any{
		"too big":    {"grande.png", "image/png", append(append([]byte{}, pngFile...), make([]byte, 6<<20)...)},
		"wrong type": {"programa.exe", "application/x-msdownload", []byte("MZ\x90\x00 not a picture")},
		"a pdf":      {"folheto.pdf", "application/pdf", []byte("%PDF-1.4 folheto")},
	} {
		res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", form, map[string][3]any{"v0_media": f}, true)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="v0-media-error"`) {
			t.Fatalf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
		if vs := o.variants(t); len(vs) != 1 || vs[0].MediaID != 0 {
			t.Fatalf("%s: saved %+v", name, vs)
		}
	}

	// Another org's file id, another org's campaign: 404. An agent: 403. No CSRF: 403.
	other, err := o.inst.App.Store.CreateOrg(ctx, "Outra padaria")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := o.inst.App.Inbox.Media().Put(ctx, other.ID, bytes.NewReader(pngFile), "image/png", "deles.png")
	if err != nil {
		t.Fatal(err)
	}
	foreign := url.Values{"v0_media_id": {fmt.Sprint(theirs.ID)}}
	for k, v := range form {
		foreign[k] = v
	}
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", foreign, nil, true); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's file: %d", res.StatusCode)
	}
	theirCampaign, err := o.inst.App.Campaigns.Create(ctx, model.Actor{OrgID: other.ID, Role: model.RoleOwner}, model.Campaign{Name: "Deles"})
	if err != nil {
		t.Fatal(err)
	}
	png := map[string][3]any{"v0_media": {"pao.png", "image/png", pngFile}}
	if res := mediaPost(t, o.owner, o.inst.URL, fmt.Sprintf("%s/campaigns/%d/edit?step=message", o.home, theirCampaign.ID), form, png, true); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's campaign: %d", res.StatusCode)
	}
	agent, _ := o.member(model.RoleAgent)
	if res := mediaPost(t, agent, o.inst.URL, base+"/edit?step=message", form, png, true); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent: %d", res.StatusCode)
	}
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", form, png, false); res.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF: %d", res.StatusCode)
	}
	if vs := o.variants(t); len(vs) != 1 || vs[0].MediaID != 0 {
		t.Fatalf("refused posts saved %+v", vs)
	}

	// The image: stored, named by the variant, shown with a thumbnail, a replace action and
	// in the preview; the draft is ready.
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", form, png, true); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	vs := o.variants(t)
	if len(vs) != 1 || vs[0].MediaID == 0 {
		t.Fatalf("variants %+v", vs)
	}
	first := vs[0].MediaID
	page := o.owner.Get(base + "/edit?step=message")
	if !strings.Contains(page.Body, `data-testid="v0-media-thumb"`) || !strings.Contains(page.Body, fmt.Sprintf(`name="v0_media_id" value="%d"`, first)) ||
		!strings.Contains(webtest.Text(page.Body), "pao.png") || !strings.Contains(webtest.Text(page.Body), "Replace the file") ||
		!strings.Contains(page.Body, `data-testid="campaign-preview-media"`) {
		t.Fatalf("message step with the image: %s", webtest.Text(page.Body))
	}
	if res := o.owner.Get(base + "/check"); !strings.Contains(res.Body, `data-testid="check-report"`) {
		t.Fatalf("check with the image: %s", webtest.Text(res.Body))
	}
	// Saving again without a new file keeps it; a new file replaces it.
	keep := url.Values{"v0_media_id": {fmt.Sprint(first)}}
	for k, v := range form {
		keep[k] = v
	}
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", keep, nil, true); res.StatusCode != http.StatusSeeOther || o.variants(t)[0].MediaID != first {
		t.Fatalf("kept: %d %+v", res.StatusCode, o.variants(t))
	}
	other2 := map[string][3]any{"v0_media": {"pao2.png", "image/png", append(append([]byte{}, pngFile...), 1, 2, 3)}}
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", keep, other2, true); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replace: %d", res.StatusCode)
	}
	if id := o.variants(t)[0].MediaID; id == first || id == 0 {
		t.Fatalf("replaced with %d (was %d)", id, first)
	}
}

// TestCampaignQRAttachment: on a QR channel a text may carry an optional file, shown in the
// step and the preview, and removable.
func TestCampaignQRAttachment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newCampaignOrg(t)
	qr, err := o.inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.orgID, Role: model.RoleOwner}, model.KindWhatsAppQR, "QR", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := o.build(t, "x")
	if res := o.owner.Post(base+"/edit?step=channel", url.Values{"channel_id": {fmt.Sprint(qr.ID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	page := o.owner.Get(base + "/edit?step=message")
	if !strings.Contains(page.Body, `data-testid="v0-media-file"`) || !strings.Contains(page.Body, `enctype="multipart/form-data"`) ||
		!strings.Contains(webtest.Text(page.Body), "File (optional)") {
		t.Fatalf("QR message step: %s", webtest.Text(page.Body))
	}
	form := url.Values{"v0_text": {"Oi {{nome}}, veja o cardápio"}}
	pdf := map[string][3]any{"v0_media": {"cardapio.pdf", "application/pdf", []byte("%PDF-1.4 cardápio")}}
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", form, pdf, true); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	vs := o.variants(t)
	if len(vs) != 1 || vs[0].MediaID == 0 {
		t.Fatalf("variants %+v", vs)
	}
	page = o.owner.Get(base + "/edit?step=message")
	if !strings.Contains(webtest.Text(page.Body), "cardapio.pdf") || !strings.Contains(page.Body, `data-testid="v0-media-remove"`) ||
		!strings.Contains(page.Body, `data-testid="campaign-preview-media"`) {
		t.Fatalf("QR message step with the file: %s", webtest.Text(page.Body))
	}
	// Removed: the text goes alone.
	rm := url.Values{"v0_media_id": {fmt.Sprint(vs[0].MediaID)}, "v0_media_remove": {"1"}}
	for k, v := range form {
		rm[k] = v
	}
	if res := mediaPost(t, o.owner, o.inst.URL, base+"/edit?step=message", rm, nil, true); res.StatusCode != http.StatusSeeOther || o.variants(t)[0].MediaID != 0 {
		t.Fatalf("remove: %d %+v", res.StatusCode, o.variants(t))
	}
}
