-- Knowledge bases: uploaded PDF files until their text is read.
--
-- A PDF's text is read by the index job (kb.index), not while the upload waits: reading a
-- large file takes seconds, and a damaged or protected one must leave its document failed
-- with the reason. The file waits here until its text is in kb_documents.content, then goes.

-- +goose Up
CREATE TABLE kb_document_files (
    org_id      bigint NOT NULL,
    document_id bigint NOT NULL,
    data        bytea NOT NULL CHECK (octet_length(data) <= 5242880),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, document_id),
    FOREIGN KEY (org_id, document_id) REFERENCES kb_documents (org_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE kb_document_files;
