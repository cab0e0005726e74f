package store

import (
	"errors"

	"github.com/lib/pq"
)

// IsDataError tells whether PostgreSQL refused a statement for its data (class 22: bad
// text, number out of range…; class 23: a constraint): sending it again fails again, so a
// batch skips that one item rather than losing the others.
func IsDataError(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	class := pe.Code.Class()
	return class == "22" || class == "23"
}
