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

// IsTxConflict tells whether PostgreSQL rolled a transaction back for a conflict with
// another one: it chose it as a deadlock's victim (40P01) or could not serialize it
// (40001). Nothing of it was written, and the same work run again normally succeeds.
func IsTxConflict(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
