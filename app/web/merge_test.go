package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestMergeContactsPage: the owner finds the other contact from the merge page, sees what
// moves and merges; the kept contact shows the merge on its timeline. Bad input changes
// nothing: another org's contact is 404, the same contact twice 422, an agent 403, a
// post without the CSRF token 403.
func TestMergeContactsPage(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Junta", "Jo", uniqueEmail("jo"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	keep, err := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Beto"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Roberto Lima", Phone: "+5511987650300"})
	third, _ := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Carla"})
	foreignOrg, _ := inst.App.Store.CreateOrg(ctx, "Outra")
	var foreign int64
	_ = inst.App.Store.DB().Get(&foreign, `INSERT INTO contacts (org_id, name) VALUES ($1, 'Roberto de fora') RETURNING id`, foreignOrg.ID)

	show := c.Get(fmt.Sprintf("%s/contacts/%d", home, keep.ID))
	if !strings.Contains(show.Body, `data-testid="contact-merge"`) {
		t.Fatal("the contact page has no Merge action")
	}
	mergePath := fmt.Sprintf("%s/contacts/%d/merge", home, keep.ID)
	page := c.Get(mergePath + "?q=roberto")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, fmt.Sprintf("?other=%d", other.ID)) {
		t.Fatalf("search: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	if strings.Contains(page.Body, "Roberto de fora") {
		t.Fatal("the search lists another org's contact")
	}
	page = c.Get(fmt.Sprintf("%s?other=%d", mergePath, other.ID))
	if !strings.Contains(page.Body, `data-testid="merge-preview"`) || !strings.Contains(page.Body, `data-testid="merge-confirm"`) {
		t.Fatalf("no preview: %s", webtest.Text(page.Body))
	}
	if res := c.Get(fmt.Sprintf("%s?other=%d", mergePath, foreign)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("preview of another org's contact: %d", res.StatusCode)
	}
	if res := c.Get(fmt.Sprintf("%s/contacts/%d/merge", home, foreign)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("merge page of another org's contact: %d", res.StatusCode)
	}
	if res := c.Post(mergePath, url.Values{"other_id": {fmt.Sprint(foreign)}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("merging another org's contact: %d", res.StatusCode)
	}
	if res := c.Post(mergePath, url.Values{"other_id": {fmt.Sprint(keep.ID)}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "cannot be merged with itself") {
		t.Fatalf("same contact twice: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := c.PostRaw(mergePath, url.Values{"other_id": {fmt.Sprint(other.ID)}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", res.StatusCode)
	}
	agentEmail := uniqueEmail("agente")
	if _, err := inst.App.Account.CreateUserInOrg(ctx, "Loja Junta", "Agente", agentEmail, strongPassword, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	agent := webtest.NewClient(t, inst.URL)
	agent.Login(agentEmail, strongPassword)
	if res := agent.Get(mergePath); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent page: %d", res.StatusCode)
	}
	if res := agent.Post(mergePath, url.Values{"other_id": {fmt.Sprint(other.ID)}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent merge: %d", res.StatusCode)
	}
	if page := agent.Get(fmt.Sprintf("%s/contacts/%d", home, keep.ID)); strings.Contains(page.Body, `data-testid="contact-merge"`) {
		t.Fatal("an agent is offered Merge")
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contacts WHERE org_id = $1`, orgID)
	if n != 3 {
		t.Fatalf("%d contacts after refused merges, want 3", n)
	}

	res := c.Post(mergePath, url.Values{"other_id": {fmt.Sprint(other.ID)}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), fmt.Sprintf("/contacts/%d", keep.ID)) {
		t.Fatalf("merge: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	show = c.Get(fmt.Sprintf("%s/contacts/%d", home, keep.ID))
	if !strings.Contains(webtest.Text(show.Body), "Merged with Roberto Lima") {
		t.Fatalf("the merge is not on the timeline: %s", webtest.Text(show.Body))
	}
	if res := c.Get(fmt.Sprintf("%s/contacts/%d", home, other.ID)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the merged contact is still there: %d", res.StatusCode)
	}
	_ = third
}

// TestMergeContactsAPI: POST /api/v1/contacts/{id}/merge merges and answers the kept
// contact; another org's contact is 404, the same id 422, a bad body 400.
func TestMergeContactsAPI(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja API Junta", "Lu", uniqueEmail("lu"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja API Junta", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	keep, _ := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Duda"})
	other, _ := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Eduarda", Phone: "+5511987650400"})
	foreignOrg, _ := inst.App.Store.CreateOrg(ctx, "Outra API")
	var foreign int64
	_ = inst.App.Store.DB().Get(&foreign, `INSERT INTO contacts (org_id, name) VALUES ($1, 'X') RETURNING id`, foreignOrg.ID)
	path := fmt.Sprintf("/api/v1/contacts/%d/merge", keep.ID)
	for _, tc := range []struct {
		path, body string
		status     int
		code       string
	}{
		{path, fmt.Sprintf(`{"other_id":%d}`, foreign), http.StatusNotFound, "not_found"},
		{fmt.Sprintf("/api/v1/contacts/%d/merge", foreign), fmt.Sprintf(`{"other_id":%d}`, other.ID), http.StatusNotFound, "not_found"},
		{path, fmt.Sprintf(`{"other_id":%d}`, keep.ID), http.StatusUnprocessableEntity, "invalid"},
		{path, `{"other_id":`, http.StatusBadRequest, "bad_request"},
		{path, `{}`, http.StatusUnprocessableEntity, "invalid"},
		{"/api/v1/contacts/abc/merge", `{"other_id":1}`, http.StatusNotFound, "not_found"},
	} {
		res := apiCall(t, c, key, http.MethodPost, tc.path, tc.body)
		if res.StatusCode != tc.status || apiCode(t, res) != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.path, tc.body, res.StatusCode, apiCode(t, res), tc.status, tc.code)
		}
	}
	if res := apiCall(t, c, "mia_wrong", http.MethodPost, path, fmt.Sprintf(`{"other_id":%d}`, other.ID)); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", res.StatusCode)
	}
	res := apiCall(t, c, key, http.MethodPost, path, fmt.Sprintf(`{"other_id":%d}`, other.ID))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"phone":"+5511987650400"`) || !strings.Contains(res.Body, `"moved"`) {
		t.Fatalf("merge: %d %s", res.StatusCode, res.Body)
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contacts WHERE org_id = $1`, orgID)
	if n != 1 {
		t.Fatalf("%d contacts after the merge, want 1", n)
	}
}
