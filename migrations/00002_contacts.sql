-- CRM contacts: the contact book with tags, org-defined custom fields, per-channel opt-outs,
-- a timeline of what happened to each contact, saved segments and CSV imports.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Phone numbers typed without a country code are read in this country (ISO 3166 alpha-2).
ALTER TABLE orgs ADD COLUMN default_country text NOT NULL DEFAULT 'BR' CHECK (default_country ~ '^[A-Z]{2}$');

CREATE TABLE tags (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    color      text NOT NULL DEFAULT 'gray',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_org_name ON tags (org_id, lower(name));

-- Typed fields an org adds to its contacts; the values live in contacts.attributes by key.
CREATE TABLE contact_fields (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    key        text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label      text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 80),
    type       text NOT NULL CHECK (type IN ('text', 'number', 'date', 'choice')),
    choices    text[] NOT NULL DEFAULT '{}',
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, key)
);

CREATE TABLE contacts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name             text NOT NULL DEFAULT '',
    phone            text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    email            text,
    owner_id         bigint REFERENCES users ON DELETE SET NULL,
    tag_ids          bigint[] NOT NULL DEFAULT '{}',
    attributes       jsonb NOT NULL DEFAULT '{}',
    -- Channel kinds the contact asked not to be messaged on: whatsapp, sms, voice.
    opted_out        text[] NOT NULL DEFAULT '{}',
    search           text GENERATED ALWAYS AS (lower(name || ' ' || coalesce(phone, '') || ' ' || coalesce(email, ''))) STORED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now()
);
-- One contact per phone per org.
CREATE UNIQUE INDEX contacts_org_phone ON contacts (org_id, phone) WHERE phone IS NOT NULL;
-- Keyset pagination for each sort the list offers.
CREATE INDEX contacts_org_id ON contacts (org_id, id);
CREATE INDEX contacts_org_created ON contacts (org_id, created_at, id);
CREATE INDEX contacts_org_name ON contacts (org_id, lower(name), id);
CREATE INDEX contacts_org_activity ON contacts (org_id, last_activity_at, id);
-- Search anywhere in name, phone or email, within one org (btree_gin puts org_id in the GIN index).
CREATE INDEX contacts_search ON contacts USING gin (org_id, search gin_trgm_ops);
CREATE INDEX contacts_tags ON contacts USING gin (org_id, tag_ids);
CREATE INDEX contacts_owner ON contacts (org_id, owner_id);

-- The timeline: created, edited, tagged, opted out, imported, moved on the board; later
-- messages and calls.
CREATE TABLE contact_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    kind       text NOT NULL,
    actor_id   bigint REFERENCES users ON DELETE SET NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_events_contact ON contact_events (org_id, contact_id, id DESC);

-- Saved filters; campaigns send to them.
CREATE TABLE segments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    filter     jsonb NOT NULL,
    created_by bigint REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX segments_org ON segments (org_id, lower(name));

-- A CSV import: the uploaded file is kept until the job has read it, so any worker
-- instance can run it; the report stays.
CREATE TABLE contact_imports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    file_name   text NOT NULL,
    data        bytea,
    mapping     jsonb NOT NULL DEFAULT '{}',
    on_existing text NOT NULL DEFAULT 'update' CHECK (on_existing IN ('update', 'skip')),
    -- pending: uploaded, columns being mapped; queued: the job is on its way; then running, done, failed.
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'queued', 'running', 'done', 'failed')),
    total       int NOT NULL DEFAULT 0,
    processed   int NOT NULL DEFAULT 0,
    imported    int NOT NULL DEFAULT 0,
    updated     int NOT NULL DEFAULT 0,
    skipped     int NOT NULL DEFAULT 0,
    rejected    int NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX contact_imports_org ON contact_imports (org_id, id DESC);

CREATE TABLE contact_import_rejects (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id    bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    import_id bigint NOT NULL REFERENCES contact_imports ON DELETE CASCADE,
    line      int NOT NULL,
    reason    text NOT NULL,
    raw       text NOT NULL DEFAULT ''
);
CREATE INDEX contact_import_rejects_import ON contact_import_rejects (org_id, import_id, line);

-- +goose Down
DROP TABLE contact_import_rejects, contact_imports, segments, contact_events, contacts, contact_fields, tags;
ALTER TABLE orgs DROP COLUMN default_country;
