package knowledge

import (
	"slices"
	"testing"

	"masteria/app/model"
)

func TestTakeCitations(t *testing.T) {
	for in, want := range map[string]struct {
		text  string
		cited []int
	}{
		"A taxa é 8 reais [2].":                {"A taxa é 8 reais.", []int{2}},
		"Sim [1, 3]. Abrimos às 7h [3][1]":     {"Sim. Abrimos às 7h", []int{1, 3}},
		"Nada citado aqui.":                    {"Nada citado aqui.", nil},
		"Fora do intervalo [9] e [0] fica.":    {"Fora do intervalo e fica.", nil},
		"[1] Começa citando.\nE segue [2]":     {"Começa citando.\nE segue", []int{1, 2}},
		"Um link [aqui](https://x.y) fica [1]": {"Um link [aqui](https://x.y) fica", []int{1}},
	} {
		text, cited := TakeCitations(in, 3)
		if text != want.text || !slices.Equal(cited, want.cited) {
			t.Errorf("%q: %q %v, want %q %v", in, text, cited, want.text, want.cited)
		}
	}
}

func TestPassages(t *testing.T) {
	got := Passages([]model.ChunkHit{{Title: "Horários", Heading: "Domingo", Text: " Abrimos às 8h. "}, {Title: "Entregas", Heading: "Entregas", Text: "No bairro."}})
	if want := "[1] Horários — Domingo\nAbrimos às 8h.\n\n[2] Entregas\nNo bairro.\n\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
