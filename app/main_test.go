package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"masteria/app/store/storetest"
	"masteria/app/vault"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, &out)
	return out.String(), err
}

func TestCommands(t *testing.T) {
	t.Setenv("DATABASE_URL", storetest.URL(t))
	t.Setenv("MASTERIA_DATA_DIR", t.TempDir())

	if out, err := runCmd(t, "version"); err != nil || !strings.HasPrefix(out, "masteria ") {
		t.Fatalf("version: %q %v", out, err)
	}
	out, err := runCmd(t, "keygen")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.ParseKeyRing(strings.TrimSpace(out)); err != nil {
		t.Fatalf("keygen printed an unusable key %q: %v", out, err)
	}
	if _, err := runCmd(t, "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "migrate"); err != nil {
		t.Fatalf("second migrate: %v", err)
	}

	out, err = runCmd(t, "user", "create", "--org", "Oficina do Zé", "--email", "ze@oficina.com.br", "--password", "motor-v8-possante", "--role", "owner")
	if err != nil || !strings.Contains(out, "owner") {
		t.Fatalf("user create: %q %v", out, err)
	}
	out, err = runCmd(t, "user", "create", "--org", "Oficina do Zé", "--email", "lia@oficina.com.br", "--password", "pneu-careca-123", "--role", "agent")
	if err != nil || !strings.Contains(out, "agent") {
		t.Fatalf("second user: %q %v", out, err)
	}
	for _, bad := range [][]string{
		{"user", "create", "--org", "X", "--email", "not-an-email", "--password", "motor-v8-possante"},
		{"user", "create", "--org", "X", "--email", "ok@x.com", "--password", "short"},
		{"user", "create", "--org", "X", "--email", "ok@x.com", "--password", "motor-v8-possante", "--role", "king"},
		{"user", "create", "--org", "Oficina do Zé", "--email", "ze@oficina.com.br", "--password", "another-password-1"},
		{"apikey", "create", "--org", "No Such Org", "--name", "x"},
		{"nonsense"},
	} {
		if _, err := runCmd(t, bad...); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	out, err = runCmd(t, "apikey", "create", "--org", "Oficina do Zé", "--name", "ERP")
	if err != nil || !strings.HasPrefix(out, "mia_") {
		t.Fatalf("apikey create: %q %v", out, err)
	}
}
