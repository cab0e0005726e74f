package model

import (
	"slices"
	"testing"
)

func TestMentions(t *testing.T) {
	members := map[int64]string{
		1: "João Silva",
		2: "Ana Souza",
		3: "Ana Lima",
		4: "Bia",
		5: "Érica  Gonçalves", // two spaces in the stored name
	}
	cases := []struct {
		name, body string
		writer     int64
		want       []int64
	}{
		{"first name, no accent, any case", "@joao pode ver?", 0, []int64{1}},
		{"full name with accents", "Fala com @JOÃO SILVA hoje", 0, []int64{1}},
		{"first name shared by two: nobody", "@Ana pode ver?", 0, nil},
		{"full name beats the shared first name", "@ana souza e @Ana Lima", 0, []int64{2, 3}},
		{"accent-insensitive full name", "@Erica Goncalves viu?", 0, []int64{5}},
		{"first name of a name with double spaces", "oi @érica", 0, []int64{5}},
		{"email is no mention", "manda para bia@loja.com", 0, nil},
		{"handle-like is no mention", "x.@bia", 0, nil},
		{"a longer word is no mention", "@Bianca chegou", 0, nil},
		{"punctuation ends a name", "Valeu, @Bia!", 0, []int64{4}},
		{"start of the note", "@Bia", 0, []int64{4}},
		{"the writer is not mentioned", "@Bia anotei", 4, nil},
		{"twice is there twice", "@Bia e @bia", 0, []int64{4, 4}},
		{"an @ alone", "@ nada @", 0, nil},
		{"after a newline", "ok\n@João", 0, []int64{1}},
	}
	for _, tc := range cases {
		got := Mentions(tc.body, members, tc.writer)
		var ids []int64
		for _, m := range got {
			ids = append(ids, m.UserID)
			if tc.body[m.Start] != '@' || m.End > len(tc.body) || m.End <= m.Start+1 {
				t.Errorf("%s: bad span %+v of %q", tc.name, m, tc.body)
			}
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: %q mentions %v, want %v", tc.name, tc.body, ids, tc.want)
		}
	}
	if got := Mentions("@Ana Souza", members, 0); len(got) != 1 || "@Ana Souza" != "@Ana Souza"[got[0].Start:got[0].End] {
		t.Errorf("span of a full name: %+v", got)
	}
	if got := MentionedUsers(Mentions("@Bia @Bia @João", members, 0)); !slices.Equal(got, []int64{4, 1}) {
		t.Errorf("mentioned users: %v", got)
	}
}
