package web

import (
	"testing"

	"masteria/app/model"
)

// TestFirstError: the error shown alone is the first in the form's field order, else the
// first the validation found, every time (a map would give a random one).
func TestFirstError(t *testing.T) {
	v := model.NewValidationError()
	for _, f := range []string{"phone", "email", "name", "owner", "tags", "notes"} {
		v.Add(f, "error."+f)
	}
	v.Fields["zeta"] = "error.zeta" // set directly: after the added ones
	for range 50 {
		if got := firstError(v); got != "error.phone" {
			t.Fatalf("validation order: %q", got)
		}
		if got := firstError(v, "name", "email", "phone"); got != "error.name" {
			t.Fatalf("form order: %q", got)
		}
		if got := firstError(v, "title", "notes"); got != "error.notes" {
			t.Fatalf("form order, some fields fine: %q", got)
		}
		if got := firstError(v, "title"); got != "error.phone" {
			t.Fatalf("form fields all fine, validation order: %q", got)
		}
	}
	if got := v.Order(); len(got) != 7 || got[6] != "zeta" {
		t.Fatalf("order %v", got)
	}
	if firstError(nil) != "" || firstError(model.NewValidationError()) != "" {
		t.Fatal("no error, yet a key")
	}
}
