package campaign_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/metasim"
)

// pngBytes is the start of a PNG file: enough for the type to be sniffed.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

// mediaTemplate approves a template whose header is a file of format (IMAGE, VIDEO,
// DOCUMENT), both at the sim and in the app.
func (e env) mediaTemplate(t testing.TB, name, format string) model.Template {
	t.Helper()
	comps := []map[string]any{{"type": "HEADER", "format": format}, {"type": "BODY", "text": "Olá {{1}}, veja a oferta!"}}
	e.ms.AddTemplate(wabaID, metasim.Template{Name: name, Language: "pt_BR", Status: "APPROVED", Category: "MARKETING", Components: comps})
	raw, _ := json.Marshal(comps)
	list, err := e.st.Templates(e.ctx, e.a.OrgID, e.ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	list = append(list, model.Template{ProviderID: name, Name: name, Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: raw})
	if err := e.st.ReplaceTemplates(e.ctx, e.a.OrgID, e.ch.ID, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.TemplateByName(e.ctx, e.a.OrgID, e.ch.ID, name, "pt_BR")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestCampaignHeaderMedia launches a campaign of a template with an image header: every
// recipient gets the image's link in the header, the message rows list the file so the
// thread shows it, and a campaign without the file, with a file of the wrong kind or with
// another org's file is refused.
func TestCampaignHeaderMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tmpl := e.mediaTemplate(t, "oferta_foto", "IMAGE")
	ids := e.contacts(t, 12)
	files := e.inst.App.Inbox.Media()
	img, err := files.Put(e.ctx, e.a.OrgID, bytes.NewReader(pngBytes), "image/png", "oferta.png")
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := files.Put(e.ctx, e.a.OrgID, strings.NewReader("%PDF-1.4 oferta"), "application/pdf", "oferta.pdf")
	if err != nil {
		t.Fatal(err)
	}
	variant := func(mediaID int64) func(*model.Campaign) {
		return func(c *model.Campaign) {
			c.Message.Variants = []model.Variant{{TemplateID: tmpl.ID, MediaID: mediaID,
				Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}}}}
		}
	}

	// Without the image the launch is refused, and says why.
	bare := e.draft(t, ids, variant(0))
	_, err = e.svc.Launch(e.ctx, e.a, bare.ID)
	var ve *model.ValidationError
	if !errors.As(err, &ve) || ve.Fields["media"] != "campaigns.error.header_media" {
		t.Fatalf("launch without the header image: %v", err)
	}
	// A PDF where the template shows an image does not fit.
	bare.Message.Variants[0].MediaID = pdf.ID
	if _, err := e.svc.Save(e.ctx, e.a, bare); !errors.As(err, &ve) || ve.Fields["media"] != "campaigns.error.media_type" {
		t.Fatalf("a PDF for an image header: %v", err)
	}
	// Another org's file is not found.
	other, err := e.st.CreateOrg(e.ctx, "Outra loja")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := files.Put(e.ctx, other.ID, bytes.NewReader(pngBytes), "image/png", "deles.png")
	if err != nil {
		t.Fatal(err)
	}
	bare.Message.Variants[0].MediaID = theirs.ID
	if _, err := e.svc.Save(e.ctx, e.a, bare); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another org's file: %v", err)
	}
	if sent := e.ms.Sent(); len(sent) != 0 {
		t.Fatalf("refused campaigns sent %d messages", len(sent))
	}

	c := e.draft(t, ids, variant(img.ID))
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDone(t, c.ID, 30*time.Second)
	if p.Reached(model.RecipientSent) != 12 {
		t.Fatalf("progress %+v", p)
	}
	sent := e.ms.Sent()
	if len(sent) != 12 {
		t.Fatalf("the sim got %d messages, want 12", len(sent))
	}
	link := sent[0].HeaderMediaLink
	if !strings.Contains(link, "/media/") {
		t.Fatalf("header link %q", link)
	}
	for _, m := range sent {
		if m.Template != "oferta_foto" || m.HeaderMediaType != "image" || m.HeaderMediaLink != link {
			t.Fatalf("sent %+v", m)
		}
	}
	// The message rows list the image, as the inbox lists an attachment.
	rs, err := e.st.Recipients(e.ctx, e.a.OrgID, c.ID, "", 0, 1)
	if err != nil || len(rs) != 1 || rs[0].MessageID == nil {
		t.Fatalf("recipients %+v %v", rs, err)
	}
	m, err := e.st.Message(e.ctx, e.a.OrgID, *rs[0].MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if fs := m.Files(); m.Kind != "template" || len(fs) != 1 || fs[0].ID != img.ID || fs[0].MIME != "image/png" || fs[0].Name != "oferta.png" {
		t.Fatalf("message %s %s", m.Kind, m.Content)
	}

	// The builder's test send goes through the inbox with the same file in the header;
	// another org's file is not found.
	ts := inbox.TemplateSend{ID: tmpl.ID, Params: []string{"Teste"}, MediaID: theirs.ID}
	if _, err := e.inst.App.Inbox.SendTemplateTo(e.ctx, e.a, e.ch.ID, "+5511912345678", ts); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("a test send with another org's file: %v", err)
	}
	ts.MediaID = img.ID
	if _, err := e.inst.App.Inbox.SendTemplateTo(e.ctx, e.a, e.ch.ID, "+5511912345678", ts); err != nil {
		t.Fatal(err)
	}
	got, err := e.ms.WaitSent(e.ctx, 13)
	if err != nil {
		t.Fatal(err)
	}
	if last := got[12]; last.To != "5511912345678" || last.HeaderMediaType != "image" || !strings.Contains(last.HeaderMediaLink, "/media/") {
		t.Fatalf("test send %+v", last)
	}
}
