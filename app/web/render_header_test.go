package web

import (
	"encoding/json"
	"testing"
)

func TestHeaderJSONKeepsEveryCharacter(t *testing.T) {
	for _, msg := range []string{"Ligando para Beatriz Nunes…", "Ação concluída 🎉", "plain"} {
		b, _ := json.Marshal(map[string]string{"message": msg})
		h := headerJSON(b)
		for i := 0; i < len(h); i++ {
			if h[i] >= 0x80 {
				t.Fatalf("%q is not ASCII", h)
			}
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(h), &back); err != nil || back["message"] != msg {
			t.Fatalf("%q came back as %q (%v)", msg, back["message"], err)
		}
	}
}
