package e2e

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestLiveListsInTheBrowser: lists that reload their content on events keep every reload
// and the forms inside them keep working. Two contacts made back to back elsewhere both
// show on the open contacts list (the second event may come while the first one's reload
// is in flight); on the members page a role changed with the select and a member removed
// with the button redraw the list in place, once, without a reload; an import's progress
// page follows the run to its report.
func TestLiveListsInTheBrowser(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	inst := webtest.Start(t)
	b := newBrowser(t, ctx, "lists", inst.URL)

	b.open("/signup", tid("signup-org"))
	b.do("sign up",
		chromedp.SendKeys(tid("signup-org"), "Ateliê Linha Fina"),
		chromedp.SendKeys(tid("signup-name"), "Lia Campos"),
		chromedp.SendKeys(tid("signup-email"), "lia@linhafina.example"),
		chromedp.SendKeys(tid("signup-password"), "agulha-Bordado-31-linha"),
		chromedp.Click(tid("signup-submit")),
	)
	org := b.waitPath("land on the org home", orgPathRE.String())
	var owner model.Actor
	if err := inst.App.Store.DB().QueryRow(`SELECT org_id, user_id FROM memberships`).Scan(&owner.OrgID, &owner.UserID); err != nil {
		t.Fatal(err)
	}
	owner.Role = model.RoleOwner
	bg := context.Background()

	// Contacts: the first one, made elsewhere while the empty list is open, reloads the page
	// (drawn empty, it has no filter bar); then two made back to back while the list is open.
	b.open(org+"/contacts", tid("contacts-empty"))
	b.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	if _, err := inst.App.CRM.Create(bg, owner, crm.ContactInput{Name: "Nair Bento", Phone: "+5511955550400"}); err != nil {
		t.Fatal(err)
	}
	b.waitJS("the first contact listed, with the filter bar", `!!document.querySelector('[data-testid="contacts-filters"]') && `+
		`[...document.querySelectorAll('[data-testid="contacts-row"]')].some(r => r.textContent.includes("Nair Bento"))`, waitTimeout)
	if eval[bool](b, `window.__e2eNoReload === true`) {
		t.Error("the empty contacts page was not reloaded for its first contact")
	}
	b.open(org+"/contacts", chromedp.CSS("#contacts-results"))
	b.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	for _, in := range []crm.ContactInput{{Name: "Marta Prates", Phone: "+5511955550401"}, {Name: "Otávio Lins", Phone: "+5511955550402"}} {
		if _, err := inst.App.CRM.Create(bg, owner, in); err != nil {
			t.Fatal(err)
		}
	}
	listed := `[...document.querySelectorAll('[data-testid="contacts-row"]')].map(r => r.textContent).join(" ")`
	b.waitJS("both contacts listed", listed+`.includes("Marta Prates") && `+listed+`.includes("Otávio Lins")`, waitTimeout)
	if n := eval[int64](b, `document.querySelectorAll("#contacts-results").length`); n != 1 {
		t.Errorf("the page has %d contact lists, want 1", n)
	}
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Error("the contacts page reloaded; the contacts must arrive over SSE without a reload")
	}

	// Members: change a role, then remove the member, with the forms inside the live list.
	agent, err := inst.App.Account.CreateUserInOrg(bg, "Ateliê Linha Fina", "Rui Teles", "rui@linhafina.example", "tesoura-Carretel-58-pano", model.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`[data-testid="member-row"][data-user-id="%d"]`, agent.User.ID)
	b.open(org+"/settings/members", chromedp.CSS(row))
	b.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`(window.__e2eNoReload = true, window.confirm = () => true)`))
	b.waitJS("pick manager", fmt.Sprintf(`(() => { const s = document.querySelector(%s); if (!s) return false;
		s.value = "manager"; s.dataset.e2eOld = "1"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, jsString(row+` [data-testid="member-role-select"]`)), waitTimeout)
	role := func() string {
		var r string
		_ = inst.App.Store.DB().Get(&r, `SELECT role FROM memberships WHERE user_id = $1`, agent.User.ID)
		return r
	}
	// The answer redraws the list: a new select, on the new role.
	b.waitJS("the list shows the new role", fmt.Sprintf(`(() => { const s = document.querySelector(%s); return !!s && !s.dataset.e2eOld && s.value === "manager" })()`,
		jsString(row+` [data-testid="member-role-select"]`)), waitTimeout)
	if r := role(); r != string(model.RoleManager) {
		t.Errorf("the role is %q, want manager", r)
	}
	b.clickLive("remove the member", chromedp.CSS(row+` [data-testid="member-remove"]`))
	b.waitJS("the member is gone from the list", fmt.Sprintf(`!document.querySelector(%s) && !!document.querySelector('[data-testid="members-table"]')`, jsString(row)), waitTimeout)
	if r := role(); r != "" {
		t.Errorf("the member is still in the org as %q", r)
	}
	if n := eval[int64](b, `document.querySelectorAll("#members-live").length`); n != 1 {
		t.Errorf("the page has %d member lists, want 1", n)
	}
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Error("the members page reloaded; its forms must redraw the list in place")
	}

	// An import: its progress page follows the run to the report, without a reload, and
	// stops asking once it is done.
	c := webtest.NewClient(t, inst.URL)
	c.Login("lia@linhafina.example", "agulha-Bordado-31-linha")
	var body bytes.Buffer
	body.WriteString("Nome;Telefone\r\n")
	for i := range 300 {
		fmt.Fprintf(&body, "Cliente %d;+55119666%05d\r\n", i, i)
	}
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	_ = w.WriteField("_csrf", c.CSRF())
	fw, _ := w.CreateFormFile("file", "clientes.csv")
	_, _ = fw.Write(body.Bytes())
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Base+org+"/contacts/import", &form)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res := c.Do(req)
	mapping := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || mapping == "" {
		t.Fatalf("upload: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	b.open(mapping, tid("import-start"))
	b.do("start the import", chromedp.Click(tid("import-start")))
	b.waitJS("the progress page shows", `!!document.querySelector('[data-testid="import-status"]')`, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	b.waitJS("the report shows", `!!document.querySelector('[data-testid="import-status"][data-status="done"]')`, waitTimeout)
	if n := eval[int64](b, `document.querySelectorAll("#import-progress").length`); n != 1 {
		t.Errorf("the page has %d progress sections, want 1", n)
	}
	if eval[bool](b, `!!document.querySelector('[data-testid="import-poll"]')`) {
		t.Error("the finished import still asks for its progress")
	}
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Error("the import page reloaded; its progress must arrive without a reload")
	}
	b.noConsoleErrors()
}
