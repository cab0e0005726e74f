// Package migrations embeds the goose SQL migrations of the schema.
package migrations

import "embed"

// FS holds every migration, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
