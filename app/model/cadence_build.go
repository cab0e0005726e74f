package model

// CadenceListItem is a cadence as the list shows it: with how many people are in it
// (active or paused), finished it and left it early, over all its versions.
type CadenceListItem struct {
	Cadence
	Active    int64 `db:"active" json:"active"`
	Completed int64 `db:"completed" json:"completed"`
	Exited    int64 `db:"exited" json:"exited"`
}
