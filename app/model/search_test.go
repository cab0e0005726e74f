package model

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanSearch(t *testing.T) {
	cases := map[string]string{
		"  joão  ":                          "joão",
		"ana\x00silva":                      "anasilva",
		"bolo\xff\xfe de \xc3":              "bolo de",
		"ana \t\n  silva":                   "ana silva",
		"\u200b":                            "\u200b", // a format character is text, not a control one
		"\ufeffbom dia":                     "bom dia",
		"":                                  "",
		"\x00\x01":                          "",
		"orçamento (11) 98765-4321":         "orçamento (11) 98765-4321",
		strings.Repeat("ç", 300):            strings.Repeat("ç", SearchMaxRunes),
		"a" + strings.Repeat(" ", 99) + "b": "a b",
	}
	for in, want := range cases {
		got := CleanSearch(in)
		if got != want {
			t.Errorf("CleanSearch(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Errorf("CleanSearch(%q) = %q: not clean", in, got)
		}
	}
	big := CleanSearch(strings.Repeat("x\x00é", 10_000))
	if n := utf8.RuneCountInString(big); n != SearchMaxRunes {
		t.Errorf("10 KB search kept %d characters", n)
	}
}

func TestFold(t *testing.T) {
	cases := map[string]string{
		"João":       "joao",
		"VINÍCIUS":   "vinicius",
		"Orçamento":  "orcamento",
		"Ação Ótima": "acao otima",
		"plain":      "plain",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	if !FoldContains("Promoção de Natal", "PROMOCAO") || FoldContains("Natal", "páscoa") {
		t.Error("FoldContains")
	}
}
