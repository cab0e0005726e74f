// Package queries embeds the named SQL the store prepares at start.
// Each file holds queries introduced by a line `-- name: query-name`.
package queries

import "embed"

// FS holds every *.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
