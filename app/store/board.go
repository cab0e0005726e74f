package store

// boardQueries are the queries of pipelines, stages and leads (the Kanban board).
type boardQueries struct{}
