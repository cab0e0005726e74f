-- CSV import: what to do with contacts already there is an explicit choice of three —
-- skip them, fill only their empty fields, or overwrite with what the file has (the old
-- 'update', renamed). The upload's delimiter is kept so the rejected-rows file is written
-- with the same one and opens in the same spreadsheet.

-- +goose Up
ALTER TABLE contact_imports DROP CONSTRAINT contact_imports_on_existing_check;
UPDATE contact_imports SET on_existing = 'overwrite' WHERE on_existing = 'update';
ALTER TABLE contact_imports ALTER COLUMN on_existing SET DEFAULT 'fill',
    ADD CONSTRAINT contact_imports_on_existing_check CHECK (on_existing IN ('skip', 'fill', 'overwrite')),
    ADD COLUMN delimiter text NOT NULL DEFAULT ',';

-- +goose Down
ALTER TABLE contact_imports DROP CONSTRAINT contact_imports_on_existing_check, DROP COLUMN delimiter;
UPDATE contact_imports SET on_existing = 'update' WHERE on_existing IN ('fill', 'overwrite');
ALTER TABLE contact_imports ALTER COLUMN on_existing SET DEFAULT 'update',
    ADD CONSTRAINT contact_imports_on_existing_check CHECK (on_existing IN ('update', 'skip'));
