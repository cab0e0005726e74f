package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestOrgTimeZone: an admin picks the org's time zone from the list and sees the time
// there; agents and managers are refused; a zone off the list, a NUL byte or invalid UTF-8
// changes nothing; another org keeps its own zone.
func TestOrgTimeZone(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	db := inst.App.Store.DB()
	owner := webtest.NewClient(t, inst.URL)
	home := owner.Signup("Relojoaria Central", "Owner", uniqueEmail("tz-owner"), strongPassword)
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Loja Vizinha", "Vizinha", uniqueEmail("tz-other"), strongPassword)
	zoneOf := func(home string) string {
		t.Helper()
		var z string
		if err := db.Get(&z, `SELECT time_zone FROM orgs WHERE id = $1`, strings.TrimPrefix(home, "/o/")); err != nil {
			t.Fatal(err)
		}
		return z
	}
	if z := zoneOf(home); z != model.DefaultTimeZone {
		t.Fatalf("new org's zone %q", z)
	}

	clients := map[model.Role]*webtest.Client{}
	for _, role := range []model.Role{model.RoleAdmin, model.RoleManager, model.RoleAgent} {
		email := uniqueEmail("tz-" + string(role))
		if _, err := inst.App.Account.CreateUserInOrg(context.Background(), "Relojoaria Central", string(role), email, strongPassword, role); err != nil {
			t.Fatal(err)
		}
		c := webtest.NewClient(t, inst.URL)
		c.Login(email, strongPassword)
		clients[role] = c
	}
	form := func(zone string) url.Values {
		return url.Values{"name": {"Relojoaria Central"}, "country": {"BR"}, "time_zone": {zone}}
	}

	page := clients[model.RoleAdmin].Get(home + "/settings")
	for _, want := range []string{`data-testid="org-time-zone"`, `value="America/Manaus"`, `value="Europe/Lisbon"`,
		`value="America/Argentina/Buenos_Aires"`, `value="America/Los_Angeles"`, `value="America/Bogota"`, `value="UTC"`,
		"São Paulo (UTC−03:00)", `<optgroup label="Brazil">`, `data-testid="org-time-zone-now"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("settings page lacks %s", want)
		}
	}
	if !strings.Contains(page.Body, `value="America/Sao_Paulo" selected`) {
		t.Error("the saved zone is not selected")
	}

	for _, role := range []model.Role{model.RoleManager, model.RoleAgent} {
		if res := clients[role].Post(home+"/settings", form("America/Manaus")); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", role, res.StatusCode)
		}
	}
	bad := []struct {
		zone string
		code int
	}{
		{"Mars/Olympus", http.StatusUnprocessableEntity},
		{"Europe/Berlin", http.StatusUnprocessableEntity}, // loads, but is not on the list
		{"Local", http.StatusUnprocessableEntity},
		{"America/Manaus\x00", http.StatusBadRequest},
		{"America/Man\xffaus", http.StatusBadRequest},
	}
	for _, b := range bad {
		res := clients[model.RoleAdmin].Post(home+"/settings", form(b.zone))
		if res.StatusCode != b.code {
			t.Errorf("zone %q: status %d, want %d", b.zone, res.StatusCode, b.code)
		}
		if b.code == http.StatusUnprocessableEntity && !strings.Contains(webtest.Text(res.Body), "Choose a time zone from the list.") {
			t.Errorf("zone %q: the refusal does not say why: %s", b.zone, webtest.Text(res.Body))
		}
	}
	if z := zoneOf(home); z != model.DefaultTimeZone {
		t.Fatalf("refused zones changed it to %q", z)
	}

	if res := clients[model.RoleAdmin].Post(home+"/settings", form("America/Manaus")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin: status %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if z := zoneOf(home); z != "America/Manaus" {
		t.Fatalf("zone %q after the change", z)
	}
	if z := zoneOf(otherHome); z != model.DefaultTimeZone {
		t.Fatalf("the other org's zone became %q", z)
	}
	page = owner.Get(home + "/settings")
	if !strings.Contains(page.Body, `value="America/Manaus" selected`) || !strings.Contains(page.Body, "UTC−04:00") {
		t.Fatal("the page does not show the new zone")
	}
	// A form without the field (an older page) keeps the zone.
	if res := owner.Post(home+"/settings", url.Values{"name": {"Relojoaria Nova"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", res.StatusCode)
	}
	if z := zoneOf(home); z != "America/Manaus" {
		t.Fatalf("a rename changed the zone to %q", z)
	}
	var n int
	_ = db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'org.time_zone_changed'`)
	if n != 1 {
		t.Fatalf("%d audit entries", n)
	}
}
