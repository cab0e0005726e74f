// Package rank makes the sort keys of the board's cards: fractional indexing over
// base-62 strings (after David Greenspan's "Implementing Fractional Indexing"). A card
// moved between two others gets a key that sorts between theirs, so a move rewrites one
// row and a column is never renumbered.
//
// Keys compare byte by byte (in PostgreSQL: COLLATE "C"). A key is an integer part and
// a fraction. The integer part is a head letter that gives its length ("a" two
// characters, "b" three, …; "Z", "Y", … for the negative side) followed by base-62
// digits, so cards added again and again at the top or the bottom of a column get keys
// that grow with the logarithm of their number: "a0", "a1", … "az", "b00", … The
// fraction, used between two neighbours, never ends with the zero digit, so there is
// always room for another key.
package rank

import (
	"errors"
	"fmt"
	"strings"
)

// Digits are the base-62 digits in ascending (ASCII) order.
const Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const (
	base      = len(Digits)
	zero byte = '0'
	top  byte = 'z'
)

// smallest is the smallest integer part; no key may be it alone, so something always
// fits before any key.
var smallest = "A" + strings.Repeat("0", 26)

// ErrInvalid is a malformed key, or two keys that are not in order.
var ErrInvalid = errors.New("rank: invalid key")

// ErrExhausted is a key past the largest integer part; no real column gets there.
var ErrExhausted = errors.New("rank: no key left on this side")

// First is the key of the first card of an empty column.
func First() string { return "a0" }

// Valid tells whether k is a well-formed key.
func Valid(k string) bool { return validate(k) == nil }

func validate(k string) error {
	if k == "" || k == smallest {
		return fmt.Errorf("%w: %q", ErrInvalid, k)
	}
	for i := 1; i < len(k); i++ {
		if value(k[i]) < 0 {
			return fmt.Errorf("%w: %q", ErrInvalid, k)
		}
	}
	n := intLen(k[0])
	if n < 0 || n > len(k) {
		return fmt.Errorf("%w: %q", ErrInvalid, k)
	}
	if len(k) > n && k[len(k)-1] == zero {
		return fmt.Errorf("%w: %q ends with a zero digit", ErrInvalid, k)
	}
	return nil
}

// Between returns a key that sorts strictly after a and strictly before b. An empty a
// means "before everything" (the top of a column), an empty b "after everything".
func Between(a, b string) (string, error) {
	if a != "" {
		if err := validate(a); err != nil {
			return "", err
		}
	}
	if b != "" {
		if err := validate(b); err != nil {
			return "", err
		}
	}
	if a != "" && b != "" && a >= b {
		return "", fmt.Errorf("%w: %q is not before %q", ErrInvalid, a, b)
	}
	switch {
	case a == "" && b == "":
		return First(), nil
	case a == "":
		ib, fb := split(b)
		if ib == smallest {
			return ib + midpoint("", fb), nil
		}
		if ib < b { // b has a fraction: its integer part alone is smaller
			return ib, nil
		}
		if k, ok := decrement(ib); ok {
			if k == smallest { // not a key alone: go below ib with a fraction instead
				return smallest + midpoint("", ""), nil
			}
			return k, nil
		}
		return "", ErrExhausted
	case b == "":
		ia, fa := split(a)
		if k, ok := increment(ia); ok {
			return k, nil
		}
		return ia + midpoint(fa, ""), nil
	}
	ia, fa := split(a)
	ib, fb := split(b)
	if ia == ib {
		return ia + midpoint(fa, fb), nil
	}
	k, ok := increment(ia)
	if !ok {
		return "", ErrExhausted
	}
	if k < b {
		return k, nil
	}
	return ia + midpoint(fa, ""), nil
}

// midpoint is a fraction strictly between fractions a and b ("" b: no upper bound),
// neither ending with the zero digit, a < b.
func midpoint(a, b string) string {
	if b != "" {
		// The common prefix, reading a as padded with zero digits.
		n := 0
		for n < len(b) && digitAt(a, n) == b[n] {
			n++
		}
		if n > 0 {
			rest := ""
			if n < len(a) {
				rest = a[n:]
			}
			return b[:n] + midpoint(rest, b[n:])
		}
	}
	da, db := 0, base
	if a != "" {
		da = value(a[0])
	}
	if b != "" {
		db = value(b[0])
	}
	if db-da > 1 {
		return string(Digits[(da+db+1)/2])
	}
	// Consecutive digits: b's first digit alone is between when b goes on.
	if len(b) > 1 {
		return b[:1]
	}
	rest := ""
	if len(a) > 1 {
		rest = a[1:]
	}
	return string(Digits[da]) + midpoint(rest, "")
}

// intLen is the length of the integer part whose head is h, or -1.
func intLen(h byte) int {
	switch {
	case h >= 'a' && h <= 'z':
		return int(h-'a') + 2
	case h >= 'A' && h <= 'Z':
		return int('Z'-h) + 2
	}
	return -1
}

// split cuts a valid key into its integer part and its fraction.
func split(k string) (string, string) {
	n := intLen(k[0])
	return k[:n], k[n:]
}

// increment is the integer part after x; false past the largest.
func increment(x string) (string, bool) {
	head, digs := x[0], []byte(x[1:])
	carry := true
	for i := len(digs) - 1; carry && i >= 0; i-- {
		if d := value(digs[i]) + 1; d == base {
			digs[i] = zero
		} else {
			digs[i] = Digits[d]
			carry = false
		}
	}
	if !carry {
		return string(head) + string(digs), true
	}
	switch head {
	case 'Z':
		return "a" + string(zero), true
	case 'z':
		return "", false
	}
	h := head + 1
	if h > 'a' {
		digs = append(digs, zero)
	} else {
		digs = digs[:len(digs)-1]
	}
	return string(h) + string(digs), true
}

// decrement is the integer part before x; false before the smallest.
func decrement(x string) (string, bool) {
	head, digs := x[0], []byte(x[1:])
	borrow := true
	for i := len(digs) - 1; borrow && i >= 0; i-- {
		if d := value(digs[i]) - 1; d < 0 {
			digs[i] = top
		} else {
			digs[i] = Digits[d]
			borrow = false
		}
	}
	if !borrow {
		return string(head) + string(digs), true
	}
	switch head {
	case 'a':
		return "Z" + string(top), true
	case 'A':
		return "", false
	}
	h := head - 1
	if h < 'Z' {
		digs = append(digs, top)
	} else {
		digs = digs[:len(digs)-1]
	}
	return string(h) + string(digs), true
}

func digitAt(k string, i int) byte {
	if i < len(k) {
		return k[i]
	}
	return zero
}

func value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}
