package i18n

import (
	"context"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Locale
		ok   bool
	}{
		{"en", EN, true},
		{"EN", EN, true},
		{"en-US", EN, true},
		{"en_gb", EN, true},
		{"pt", PTBR, true},
		{"pt-br", PTBR, true},
		{"pt_BR", PTBR, true},
		{"PT-BR", PTBR, true},
		{"pt-PT", PTBR, true},
		{" pt-BR ", PTBR, true},
		{"fr", EN, false},
		{"", EN, false},
		{"*", EN, false},
		{"english", EN, false},
	}
	for _, c := range cases {
		got, ok := Parse(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestNegotiate(t *testing.T) {
	cases := []struct {
		header string
		want   Locale
	}{
		{"", EN},
		{"*", EN},
		{"fr-FR,fr;q=0.9", EN},
		{"pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", PTBR},
		{"en-US,en;q=0.9,pt-BR;q=0.8", EN},
		{"pt-PT", PTBR},
		{"pt", PTBR},
		{"de;q=1, en;q=0.2, pt;q=0.5", PTBR},
		{"en;q=0.5, pt-BR;q=0.9", PTBR},
		{"pt-BR;q=0, en;q=0.1", EN},
		{"pt-BR;q=0", EN},
		{"fr, pt-br;q=0.3", PTBR},
		{"en, pt", EN},
		{"pt, en", PTBR},
		{"en;q=0.8, pt;q=0.8", EN},
		{"pt;q=abc, en;q=0.1", EN},
		{"pt;q=1.5, en;q=0.1", EN},
		{"pt ; q=0.9 , en ; q=0.8", PTBR},
		{"pt;level=1;q=0.9,en;q=0.5", PTBR},
		{"es-419,es;q=0.9,pt;q=0.8", PTBR},
	}
	for _, c := range cases {
		if got := Negotiate(c.header); got != c.want {
			t.Errorf("Negotiate(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

func TestName(t *testing.T) {
	if EN.Name() != "English" || PTBR.Name() != "Português (Brasil)" {
		t.Fatalf("names: %q, %q", EN.Name(), PTBR.Name())
	}
	if len(Supported()) != 2 || Supported()[0] != EN {
		t.Fatalf("Supported = %v", Supported())
	}
}

func TestT(t *testing.T) {
	if got := T(PTBR, "nav.settings"); got != "Configurações" {
		t.Errorf("T(pt-BR, nav.settings) = %q", got)
	}
	if got := T(EN, "members.invited", "email", "a@b.c"); got != "Invite created for a@b.c." {
		t.Errorf("T with email = %q", got)
	}
	if got := T(PTBR, "members.remove_confirm", "name", "Ana", "org", "Loja da Ana"); got != "Remover Ana de Loja da Ana? A pessoa perde o acesso na hora." {
		t.Errorf("T with two args = %q", got)
	}
	// A value holding a placeholder is not expanded again.
	if got := T(EN, "members.role_changed", "name", "{role}", "role", "Admin"); got != "{role} is now Admin." {
		t.Errorf("T with braces in a value = %q", got)
	}
	// Missing args leave the placeholder; an odd trailing arg is ignored.
	if got := T(EN, "members.role_changed", "name", "Bo", "role"); got != "Bo is now {role}." {
		t.Errorf("T with missing arg = %q", got)
	}
	if got := T(EN, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
	if got := T(PTBR, "no.such.key", "a", "b"); got != "no.such.key" {
		t.Errorf("missing key in pt-BR = %q", got)
	}
	if got := T(Locale("xx"), "nav.home"); got != "Home" {
		t.Errorf("unknown locale = %q", got)
	}
}

func TestFill(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"{a}", "1"},
		{"{a}{b}", "12"},
		{"x {a} y {b} z", "x 1 y 2 z"},
		{"{a", "{a"},
		{"a}", "a}"},
		{"{{a}}", "{1}"},
		{"{c} {a}", "{c} 1"},
		{"{}", "{}"},
	}
	for _, c := range cases {
		if got := fill(c.in, []string{"a", "1", "b", "2"}); got != c.want {
			t.Errorf("fill(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestN(t *testing.T) {
	cases := []struct {
		l    Locale
		n    int
		want string
	}{
		{EN, 0, "0 members"},
		{EN, 1, "1 member"},
		{EN, 2, "2 members"},
		{EN, 1500, "1,500 members"},
		{PTBR, 0, "0 membros"},
		{PTBR, 1, "1 membro"},
		{PTBR, 7, "7 membros"},
		{PTBR, 1500, "1.500 membros"},
		{EN, -1, "-1 members"},
	}
	for _, c := range cases {
		if got := N(c.l, "members.count", c.n); got != c.want {
			t.Errorf("N(%s, %d) = %q, want %q", c.l, c.n, got, c.want)
		}
	}
	if got := N(PTBR, "login.error.try_again_in", 15); got != "Muitas tentativas. Tente de novo em 15 minutos." {
		t.Errorf("N try again = %q", got)
	}
}

func TestNZero(t *testing.T) {
	catalogs[EN]["test.items.zero"] = "No items in {place}"
	catalogs[EN]["test.items.one"] = "{n} item"
	catalogs[EN]["test.items.other"] = "{n} items"
	defer func() {
		delete(catalogs[EN], "test.items.zero")
		delete(catalogs[EN], "test.items.one")
		delete(catalogs[EN], "test.items.other")
	}()
	if got := N(EN, "test.items", 0, "place", "cart"); got != "No items in cart" {
		t.Errorf("N zero = %q", got)
	}
	if got := N(EN, "test.items", 3); got != "3 items" {
		t.Errorf("N other = %q", got)
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if FromContext(ctx) != EN {
		t.Fatal("default locale is not en")
	}
	//lint:ignore SA1012 checking that a nil context is safe
	if FromContext(nil) != EN {
		t.Fatal("nil context")
	}
	ctx = WithLocale(ctx, PTBR)
	if FromContext(ctx) != PTBR {
		t.Fatal("locale lost in context")
	}
	if got := Ctx(ctx, "home.welcome", "name", "Ana"); got != "Olá, Ana!" {
		t.Errorf("Ctx = %q", got)
	}
	if got := CtxN(ctx, "time.hours_ago", 1); got != "há 1 hora" {
		t.Errorf("CtxN = %q", got)
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2026, 3, 7, 9, 5, 0, 0, time.UTC)
	if got := FormatTime(EN, tm); got != "Mar 7, 2026 09:05" {
		t.Errorf("en = %q", got)
	}
	if got := FormatTime(PTBR, tm); got != "07/03/2026 09:05" {
		t.Errorf("pt-BR = %q", got)
	}
	if got := FormatDate(PTBR, tm); got != "07/03/2026" {
		t.Errorf("pt-BR date = %q", got)
	}
}

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		ago    time.Duration
		en, pt string
	}{
		{0, "just now", "agora mesmo"},
		{59 * time.Second, "just now", "agora mesmo"},
		{-30 * time.Second, "just now", "agora mesmo"},
		{time.Minute, "1 minute ago", "há 1 minuto"},
		{5*time.Minute + 40*time.Second, "5 minutes ago", "há 5 minutos"},
		{59 * time.Minute, "59 minutes ago", "há 59 minutos"},
		{time.Hour, "1 hour ago", "há 1 hora"},
		{23 * time.Hour, "23 hours ago", "há 23 horas"},
		{24 * time.Hour, "1 day ago", "há 1 dia"},
		{6 * 24 * time.Hour, "6 days ago", "há 6 dias"},
		{7 * 24 * time.Hour, "Nov 18, 2026", "18/11/2026"},
		{400 * 24 * time.Hour, "Oct 21, 2025", "21/10/2025"},
		{-2 * time.Hour, "Nov 25, 2026 14:00", "25/11/2026 14:00"},
	}
	for _, c := range cases {
		tm := now.Add(-c.ago)
		if got := RelTime(EN, tm, now); got != c.en {
			t.Errorf("RelTime(en, -%v) = %q, want %q", c.ago, got, c.en)
		}
		if got := RelTime(PTBR, tm, now); got != c.pt {
			t.Errorf("RelTime(pt-BR, -%v) = %q, want %q", c.ago, got, c.pt)
		}
	}
}

func TestFormatInt(t *testing.T) {
	cases := []struct {
		n      int64
		en, pt string
	}{
		{0, "0", "0"},
		{999, "999", "999"},
		{1000, "1,000", "1.000"},
		{-1234567, "-1,234,567", "-1.234.567"},
		{-9223372036854775808, "-9,223,372,036,854,775,808", "-9.223.372.036.854.775.808"},
	}
	for _, c := range cases {
		if got := FormatInt(EN, c.n); got != c.en {
			t.Errorf("FormatInt(en, %d) = %q", c.n, got)
		}
		if got := FormatInt(PTBR, c.n); got != c.pt {
			t.Errorf("FormatInt(pt-BR, %d) = %q", c.n, got)
		}
	}
}

func BenchmarkT(b *testing.B) {
	for b.Loop() {
		T(PTBR, "members.remove_confirm", "name", "Ana", "org", "Loja")
	}
}
