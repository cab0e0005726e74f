-- name: import-create
INSERT INTO contact_imports (org_id, created_by, file_name, data, mapping, on_existing, delimiter)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id;

-- name: import
SELECT id, org_id, created_by, file_name, mapping, on_existing, delimiter, status, total, processed, imported, updated,
       skipped, rejected, error, created_at, finished_at
FROM contact_imports WHERE org_id = $1 AND id = $2;

-- name: imports
SELECT id, org_id, created_by, file_name, mapping, on_existing, delimiter, status, total, processed, imported, updated,
       skipped, rejected, error, created_at, finished_at
FROM contact_imports WHERE org_id = $1 ORDER BY id DESC LIMIT $2;

-- name: import-data
SELECT data FROM contact_imports WHERE org_id = $1 AND id = $2;

-- name: import-queue
-- The mapping is confirmed: only one press of "Import" queues the job.
UPDATE contact_imports SET status = 'queued', mapping = $3, on_existing = $4
WHERE org_id = $1 AND id = $2 AND status = 'pending';

-- name: import-start
-- The job claims a queued (or interrupted) import; a retry after a crash starts it over,
-- which is safe because rows are upserted by phone.
UPDATE contact_imports SET status = 'running', total = 0, processed = 0, imported = 0, updated = 0, skipped = 0,
       rejected = 0, error = ''
WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running') AND data IS NOT NULL;

-- name: import-clear-rejects
DELETE FROM contact_import_rejects WHERE org_id = $1 AND import_id = $2;

-- name: import-progress
UPDATE contact_imports SET processed = $3, imported = $4, updated = $5, skipped = $6, rejected = $7
WHERE org_id = $1 AND id = $2;

-- name: import-finish
-- The file is dropped once read: the report stays, the upload does not.
UPDATE contact_imports SET status = $3, total = $4, processed = $4, imported = $5, updated = $6, skipped = $7,
       rejected = $8, error = $9, finished_at = now(), data = NULL
WHERE org_id = $1 AND id = $2;

-- name: import-reject-insert
INSERT INTO contact_import_rejects (org_id, import_id, line, reason, raw)
SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::text[]);

-- name: import-rejects
SELECT line, reason, raw FROM contact_import_rejects WHERE org_id = $1 AND import_id = $2 ORDER BY line LIMIT $3;

-- name: contacts-upsert
-- A batch of import rows at once. Rows with a phone meet existing contacts of that phone:
-- $10 = 'overwrite' replaces each field the row has (never blanks one), 'fill' sets only the
-- fields the contact has empty, 'skip' leaves them. Tags are added and an opt-out is kept in
-- every mode. Returns, per row, the contact id and whether it was new; skipped rows return nothing.
INSERT INTO contacts (org_id, name, phone, email, owner_id, tag_ids, attributes, opted_out)
SELECT $1, r.name, nullif(r.phone, ''), nullif(r.email, ''), nullif(r.owner_id, 0),
       coalesce((SELECT array_agg(t::bigint) FROM unnest(string_to_array(nullif(r.tags, ''), ',')) t), '{}'),
       r.attributes::jsonb,
       CASE WHEN r.opt_out THEN ARRAY['whatsapp', 'sms', 'voice'] ELSE '{}' END
FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::boolean[], $9::int[])
     AS r(name, phone, email, owner_id, tags, attributes, opt_out, ord)
ORDER BY r.ord
ON CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO UPDATE SET
    name = CASE WHEN excluded.name <> '' AND ($10 = 'overwrite' OR contacts.name = '') THEN excluded.name ELSE contacts.name END,
    email = CASE WHEN $10 = 'overwrite' THEN coalesce(excluded.email, contacts.email) ELSE coalesce(contacts.email, excluded.email) END,
    owner_id = CASE WHEN $10 = 'overwrite' THEN coalesce(excluded.owner_id, contacts.owner_id) ELSE coalesce(contacts.owner_id, excluded.owner_id) END,
    tag_ids = ARRAY(SELECT DISTINCT unnest(contacts.tag_ids || excluded.tag_ids)),
    attributes = CASE WHEN $10 = 'overwrite' THEN contacts.attributes || excluded.attributes ELSE excluded.attributes || contacts.attributes END,
    opted_out = CASE WHEN excluded.opted_out <> '{}' AND ($10 = 'overwrite' OR contacts.opted_out = '{}') THEN excluded.opted_out ELSE contacts.opted_out END,
    updated_at = now()
WHERE $10 IN ('fill', 'overwrite')
RETURNING id, phone, (xmax = 0) AS inserted;
