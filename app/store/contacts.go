package store

// contactQueries are the queries of contacts, tags, custom fields, segments and imports.
type contactQueries struct{}
