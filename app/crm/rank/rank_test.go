package rank

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func between(t *testing.T, a, b string) string {
	t.Helper()
	k, err := Between(a, b)
	if err != nil {
		t.Fatalf("Between(%q, %q): %v", a, b, err)
	}
	if !Valid(k) || (a != "" && k <= a) || (b != "" && k >= b) {
		t.Fatalf("Between(%q, %q) = %q, not strictly between", a, b, k)
	}
	return k
}

func TestBetweenCases(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"", "", "a0"},
		{"a0", "", "a1"},
		{"", "a0", "Zz"},
		{"a0", "a1", "a0V"},
		{"a0", "a0V", "a0G"},
		{"a0V", "a1", "a0l"},
		{"az", "", "b00"},
		{"Zz", "a0", "ZzV"},
		{"", "a0V", "a0"},
		{"a1", "b00", "a2"},
		{"a0z", "a1", "a0zV"},
	} {
		if got := between(t, c.a, c.b); got != c.want {
			t.Errorf("Between(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

func TestBetweenRefuses(t *testing.T) {
	for _, c := range [][2]string{{"a1", "a0"}, {"a0", "a0"}, {"a0V0", ""}, {"", "a-"}, {"é", ""}, {"V", ""}, {"b0", ""}, {"", "A" + strings.Repeat("0", 26)}} {
		if _, err := Between(c[0], c[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Between(%q, %q): err %v, want ErrInvalid", c[0], c[1], err)
		}
	}
}

// TestAppendsStayShort: a column filled from the bottom or the top gets keys that grow
// with the logarithm of the number of cards.
func TestAppendsStayShort(t *testing.T) {
	last, first := "", ""
	for i := 0; i < 5000; i++ {
		last = between(t, last, "")
		first = between(t, "", first)
	}
	if len(last) > 4 || len(first) > 4 {
		t.Fatalf("after 5000 appends the keys are %d and %d long", len(last), len(first))
	}
}

// TestRandomInsertsKeepOrder inserts at random places of a list and checks that sorting
// the keys gives the list back: the order is the order of the keys.
func TestRandomInsertsKeepOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var keys []string
	for i := 0; i < 3000; i++ {
		at := r.IntN(len(keys) + 1)
		a, b := "", ""
		if at > 0 {
			a = keys[at-1]
		}
		if at < len(keys) {
			b = keys[at]
		}
		keys = slices.Insert(keys, at, between(t, a, b))
	}
	if !slices.IsSorted(keys) {
		t.Fatal("keys are not in list order")
	}
	if len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Fatal("two keys are equal")
	}
	longest := 0
	for _, k := range keys {
		longest = max(longest, len(k))
	}
	t.Logf("3000 random inserts: longest key %d digits", longest)
}

// TestSameGapRepeatedly is the worst case: always dropping just below the same card.
func TestSameGapRepeatedly(t *testing.T) {
	a, b := "a0", "a1"
	for i := 0; i < 300; i++ {
		b = between(t, a, b)
	}
	if len(b) > 80 {
		t.Fatalf("300 inserts in one gap made a key of %d digits", len(b))
	}
}

// key turns fuzz bytes into a valid key, or "" (an open end): a head letter, the
// integer digits it calls for, and a fraction without a trailing zero digit.
func key(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	heads := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	h := heads[int(raw[0])%len(heads)]
	var s strings.Builder
	s.WriteByte(h)
	for i, n := 1, intLen(h); i < n; i++ {
		c := byte(0)
		if i < len(raw) {
			c = raw[i]
		}
		s.WriteByte(Digits[int(c)%base])
	}
	n := intLen(h)
	frac := ""
	if len(raw) > n {
		var f strings.Builder
		for _, c := range raw[n:] {
			f.WriteByte(Digits[int(c)%base])
		}
		frac = strings.TrimRight(f.String(), "0")
	}
	k := s.String() + frac
	if k == smallest {
		return ""
	}
	return k
}

func FuzzBetween(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{26, 0}, []byte{26, 1})
	f.Add([]byte{26, 0}, []byte{26, 0, 31})
	f.Add([]byte{25, 61, 61}, []byte{26, 0})
	f.Add([]byte{51, 61, 61, 61}, []byte{})
	f.Add([]byte{}, []byte{0, 0, 0, 0, 1})
	f.Add([]byte{0}, []byte{})
	f.Fuzz(func(t *testing.T, ra, rb []byte) {
		a, b := key(ra), key(rb)
		if a != "" && b != "" {
			if a == b {
				return
			}
			if a > b {
				a, b = b, a
			}
		}
		k, err := Between(a, b)
		if errors.Is(err, ErrExhausted) {
			return // past the largest or before the smallest integer part: no column gets there
		}
		if err != nil {
			t.Fatalf("Between(%q, %q): %v", a, b, err)
		}
		if !Valid(k) {
			t.Fatalf("Between(%q, %q) = %q, not a valid key", a, b, k)
		}
		if (a != "" && !(a < k)) || (b != "" && !(k < b)) {
			t.Fatalf("Between(%q, %q) = %q, not strictly between", a, b, k)
		}
	})
}
