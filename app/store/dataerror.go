package store

import (
	"errors"

	"github.com/lib/pq"
)

// IsDataError tells whether PostgreSQL refused a statement for its data (class 22: bad
// text, number out of range…; a NOT NULL or CHECK constraint): sending it again fails
// again, so a batch skips that one item rather than losing the others. A unique violation
// is not one: it comes of a race, and the provider's retry succeeds.
func IsDataError(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code.Class() == "22" || pe.Code == "23502" || pe.Code == "23514"
}
