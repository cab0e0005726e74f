package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/campaign/policy"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestPolicySettingsPage: owners and admins read and change the contact policy; managers
// and agents get 403; a value out of range, not a number, is refused with 422 and the field
// named, NUL bytes or invalid UTF-8 with 400; a form without its CSRF token, or too big, is
// refused; none of them changes anything, and another org's page is not this org's.
func TestPolicySettingsPage(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	pol := policy.New(o.inst.App.Store)
	admin, _ := o.member(model.RoleAdmin)
	manager, _ := o.member(model.RoleManager)
	agent, _ := o.member(model.RoleAgent)
	path := o.home + "/settings/policy"

	res := o.owner.Get(path)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="policy-daily-cap"`) || !strings.Contains(res.Body, `value="2"`) {
		t.Fatalf("page: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if !strings.Contains(o.owner.Get(o.home+"/settings").Body, "/settings/policy") {
		t.Fatal("the settings nav does not link the contact policy")
	}
	good := url.Values{"daily_cap": {"3"}, "quiet_start": {"22"}, "quiet_end": {"7"}, "sms_dedup_hours": {"48"}}
	for _, c := range []*webtest.Client{manager, agent} {
		if res := c.Get(path); res.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin page: %d", res.StatusCode)
		}
		if res := c.Post(path, url.Values(cloneValues(good))); res.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin save: %d", res.StatusCode)
		}
	}
	with := func(k, v string) url.Values {
		f := cloneValues(good)
		f.Set(k, v)
		return f
	}
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"cap below 0":      {with("daily_cap", "-1"), "policy.error.daily_cap"},
		"cap above 50":     {with("daily_cap", "51"), "policy.error.daily_cap"},
		"cap not a number": {with("daily_cap", "two"), "policy.error.daily_cap"},
		"cap missing":      {with("daily_cap", ""), "policy.error.daily_cap"},
		"hour 24":          {with("quiet_start", "24"), "policy.error.hour"},
		"hour -1":          {with("quiet_end", "-1"), "policy.error.hour"},
		"window too long":  {with("sms_dedup_hours", "721"), "policy.error.dedup_hours"},
		"huge number":      {with("daily_cap", "99999999999999999999999"), "policy.error.daily_cap"},
	} {
		res := o.owner.Post(path, tc.form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "field-error") {
			t.Fatalf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	// Text the database cannot store is refused before the handler, as everywhere.
	for name, form := range map[string]url.Values{"NUL byte": with("sms_dedup_hours", "24\x00"), "invalid UTF-8": with("quiet_start", "\xff\xfe")} {
		if res := o.owner.Post(path, form); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d", name, res.StatusCode)
		}
	}
	if res := o.owner.PostRaw(path, cloneValues(good)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("missing CSRF: %d", res.StatusCode)
	}
	if res := o.owner.Post(path, with("daily_cap", strings.Repeat("1", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", res.StatusCode)
	}
	if got, _ := pol.Settings(ctx, o.orgID()); got != model.DefaultPolicySettings {
		t.Fatalf("refused saves changed the policy: %+v", got)
	}
	// Another org's settings: its owner is not a member here.
	other := webtest.NewClient(t, o.inst.URL)
	otherHome := other.Signup("Outra Loja", "Rui", uniqueEmail("rui"), strongPassword)
	if res := other.Post(path, cloneValues(good)); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Fatalf("another org's owner: %d", res.StatusCode)
	}
	if got, _ := pol.Settings(ctx, o.orgID()); got != model.DefaultPolicySettings {
		t.Fatalf("another org changed the policy: %+v", got)
	}

	res = admin.Post(path, cloneValues(good))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	want := model.PolicySettings{DailyCap: 3, QuietStart: 22, QuietEnd: 7, SMSDedupHours: 48}
	if got, _ := pol.Settings(ctx, o.orgID()); got != want {
		t.Fatalf("saved %+v", got)
	}
	if page := o.owner.Get(path).Body; !strings.Contains(page, `value="48"`) || !strings.Contains(page, `<option value="22" selected>`) {
		t.Fatalf("the page does not show what was saved: %s", webtest.Text(page))
	}
	var otherID int64
	_ = o.inst.App.Store.DB().Get(&otherID, `SELECT id FROM orgs WHERE name = 'Outra Loja'`)
	if got, _ := pol.Settings(ctx, otherID); got != model.DefaultPolicySettings || otherHome == o.home {
		t.Fatalf("another org's policy: %+v", got)
	}
}
