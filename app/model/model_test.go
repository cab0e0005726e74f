package model

import (
	"errors"
	"strings"
	"testing"
)

func TestValidEmail(t *testing.T) {
	good := []string{"ana@loja.com.br", "a.b+c@x.io", "joao_silva@empresa.com"}
	bad := []string{"", "ana", "ana@", "@loja.com", "ana@loja", "ana@loja.", "a b@c.com", "Ana <ana@loja.com>", strings.Repeat("a", 250) + "@x.com"}
	for _, e := range good {
		if !ValidEmail(e) {
			t.Errorf("%q refused", e)
		}
	}
	for _, e := range bad {
		if ValidEmail(e) {
			t.Errorf("%q accepted", e)
		}
	}
}

func TestPasswordProblem(t *testing.T) {
	cases := map[string]string{
		"cafe-com-leite-42":      "",
		"short":                  "signup.error.password_short",
		"aaaaaaaaaaaa":           "signup.error.password_common",
		"1234567890":             "signup.error.password_common",
		"Senha12345":             "signup.error.password_common",
		"mariana-2026!":          "signup.error.password_email",
		strings.Repeat("x", 129): "signup.error.password_long",
	}
	for pw, want := range cases {
		if got := PasswordProblem(pw, "mariana@loja.com"); got != want {
			t.Errorf("%q: got %q, want %q", pw, got, want)
		}
	}
}

func TestRoles(t *testing.T) {
	if !RoleOwner.AtLeast(RoleAdmin) || RoleAgent.AtLeast(RoleManager) || Role("boss").AtLeast(RoleAgent) {
		t.Fatal("AtLeast is wrong")
	}
	if RoleAdmin.CanGrant(RoleOwner) || !RoleAdmin.CanGrant(RoleAdmin) || RoleManager.CanGrant(RoleAgent) || !RoleOwner.CanGrant(RoleOwner) {
		t.Fatal("CanGrant is wrong")
	}
}

func TestValidationError(t *testing.T) {
	err := FieldError("email", "signup.error.invalid_email")
	var v *ValidationError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &v) || v.Fields["email"] == "" {
		t.Fatalf("%v", err)
	}
	if NewValidationError().Err() != nil {
		t.Fatal("an empty validation error is not nil")
	}
}

func TestCleanName(t *testing.T) {
	if n, ok := CleanName("  Padaria   Pão  Quente "); !ok || n != "Padaria Pão Quente" {
		t.Fatalf("%q %v", n, ok)
	}
	if _, ok := CleanName("   "); ok {
		t.Fatal("blank accepted")
	}
}

// TestPolicy: the role policy's minima, and who may delete a lead.
func TestPolicy(t *testing.T) {
	for p, want := range map[Permission]Role{ManageContacts: RoleManager, ShapePipelines: RoleManager, ManageChannels: RoleAdmin,
		ManageInbox: RoleAdmin, ManageOrg: RoleAdmin, SeeMembers: RoleManager, UseOwnAccount: RoleAgent, "bogus": RoleOwner} {
		if got := p.MinRole(); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	if RoleAgent.May(ManageContacts) || !RoleManager.May(ManageContacts) || !RoleOwner.May(ManageOrg) || RoleManager.May(ManageOrg) {
		t.Error("May disagrees with the policy")
	}
	me, other := int64(5), int64(6)
	agent := Actor{UserID: me, Role: RoleAgent}
	if !agent.MayDeleteLead(&me, nil) || !agent.MayDeleteLead(nil, &me) || agent.MayDeleteLead(&other, &other) || agent.MayDeleteLead(nil, nil) {
		t.Error("an agent deletes their own leads only")
	}
	if !(Actor{UserID: me, Role: RoleManager}).MayDeleteLead(&other, nil) || (Actor{Role: RoleAgent}).MayDeleteLead(new(int64), nil) {
		t.Error("managers delete any lead; nobody is not an owner")
	}
}

func TestTemplateShapeHeaderMedia(t *testing.T) {
	for comps, want := range map[string]string{
		`[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["h"]}},{"type":"BODY","text":"Oi {{1}}"}]`: "IMAGE",
		`[{"type":"HEADER","format":"video"},{"type":"BODY","text":"Oi"}]`:                                         "VIDEO",
		`[{"type":"HEADER","format":"DOCUMENT"},{"type":"BODY","text":"Oi"}]`:                                      "DOCUMENT",
		`[{"type":"HEADER","format":"TEXT","text":"Olá {{1}}"},{"type":"BODY","text":"Oi"}]`:                       "",
		`[{"type":"BODY","text":"Oi"}]`: "",
	} {
		s := Template{Components: []byte(comps)}.Shape()
		if s.HeaderMedia != want || s.Body == "" {
			t.Errorf("%s: header media %q, want %q", comps, s.HeaderMedia, want)
		}
		if want == "" && s.HeaderAccepts("image/png") {
			t.Errorf("%s accepts an image", comps)
		}
	}
	s := Template{Components: []byte(`[{"type":"HEADER","format":"DOCUMENT"}]`)}.Shape()
	if !s.HeaderAccepts("application/pdf") || s.HeaderAccepts("image/jpeg") || s.HeaderMediaKind() != "document" {
		t.Errorf("document header: %+v", s)
	}
}
