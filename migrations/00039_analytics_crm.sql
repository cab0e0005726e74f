-- The metric engine's leads, campaigns and cadences rollups (app/analytics leads.go,
-- campaigns.go, cadences.go). Calls read the voice page's own call_stats_daily (00023).
--
-- analytics_lead_entries: one row per time a lead entered a stage, its creation included
-- (move_id 0: the stage it was created in), with what the figures need of the lead now
-- (owner, value) and of its later entries (moved on, past the first stage). Kept per lead
-- (mark key = lead id; a change of a pipeline's stages marks its leads): won and lost
-- count distinct leads of a period, which per-bucket sums cannot answer; the rows of a
-- period are read through (org_id, at).
--
-- analytics_campaigns: one row per launched campaign with its funnel (mark key = campaign
-- id). A period's funnel adds up the rows of the campaigns launched in it.
--
-- analytics_cadence_hours: per local hour of the org's zone (the zone is stored with the
-- rows) and cadence, the enrolments that began in it by how they stand now. Marks carry
-- the UTC hour of the enrolments written; a change of the org's zone marks a rebuild (key
-- -1). Reads take the rows of the org's present zone only.

-- +goose Up
CREATE TABLE analytics_lead_entries (
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    lead_id     bigint NOT NULL,
    move_id     bigint NOT NULL, -- 0: the lead's creation
    at          timestamptz NOT NULL,
    pipeline_id bigint NOT NULL,
    stage_id    bigint,          -- null once the stage is deleted
    outcome     text NOT NULL,   -- the stage's outcome when counted: open, won, lost
    owner_id    bigint,
    value_cents bigint NOT NULL,
    -- An entry into an open stage that the lead later followed with one into an open stage
    -- further along its pipeline, or into a won stage (stage conversion).
    moved_on    boolean NOT NULL,
    -- An entry into an open stage after the first of its pipeline, or into a won stage
    -- (the leads funnel's second step).
    past_first  boolean NOT NULL,
    PRIMARY KEY (org_id, lead_id, move_id)
);
CREATE INDEX analytics_lead_entries_at ON analytics_lead_entries (org_id, at, lead_id);

CREATE TABLE analytics_campaigns (
    org_id      bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    campaign_id bigint NOT NULL,
    channel_id  bigint,
    launched_at timestamptz NOT NULL,
    sent        bigint NOT NULL,
    delivered   bigint NOT NULL,
    read        bigint NOT NULL,
    replied     bigint NOT NULL,
    lead        bigint NOT NULL,
    won         bigint NOT NULL,
    PRIMARY KEY (org_id, campaign_id)
);
CREATE INDEX analytics_campaigns_launched ON analytics_campaigns (org_id, launched_at);

CREATE TABLE analytics_cadence_hours (
    org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
    zone       text NOT NULL,
    hour       timestamptz NOT NULL, -- the start of a local hour of zone
    cadence_id bigint NOT NULL,
    enrolled   bigint NOT NULL,
    replied    bigint NOT NULL,
    completed  bigint NOT NULL,
    exited     bigint NOT NULL,
    PRIMARY KEY (org_id, zone, hour, cadence_id)
);

-- The rollup works out an hour's enrolments again from the enrolments of that hour.
CREATE INDEX cadence_enrolments_org_created ON cadence_enrolments (org_id, created_at);
-- A lead's campaigns: the leads trigger marks the campaigns that reached its contact.
CREATE INDEX campaign_recipients_contact_campaign ON campaign_recipients (org_id, contact_id, campaign_id)
    WHERE status IN ('replied');

-- +goose StatementBegin
-- The funnel step a recipient's status reaches (analytics_recipient_step without the lead).
CREATE FUNCTION analytics_recipient_status_step(p_status text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'answered' THEN 2 WHEN 'read' THEN 3
        WHEN 'replied' THEN 4 ELSE 0 END
$$;

-- How far a campaign recipient got in the funnel: 0 not sent, 1 sent, 2 delivered (a
-- call: answered), 3 read, 4 replied, 5 replied and the contact has a lead created since
-- the launch, 6 such a lead is won. A reply counts as read and delivered even without
-- their receipts: it proves both. The rollup and the drill-down both count the first four
-- steps by status and call it for the replies only.
CREATE FUNCTION analytics_recipient_step(p_org bigint, p_status text, p_contact bigint, p_launched timestamptz)
RETURNS int LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_status = 'replied'
        THEN 4 + (SELECT coalesce(max(CASE WHEN s.outcome = 'won' THEN 2 ELSE 1 END), 0)
                  FROM leads l JOIN stages s ON s.org_id = l.org_id AND s.id = l.stage_id
                  WHERE l.org_id = p_org AND l.contact_id = p_contact AND l.created_at >= p_launched)
        ELSE analytics_recipient_status_step(p_status) END
$$;

CREATE FUNCTION analytics_mark_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The lead itself, and the campaigns whose replies its contact gave (their "lead" and
    -- "won" steps read the contact's leads).
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT x.org_id, 'crm.leads', x.id FROM changed_leads x;
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT r.org_id, 'crm.campaigns', r.campaign_id
    FROM (SELECT DISTINCT x.org_id, x.contact_id FROM changed_leads x) x
    JOIN campaign_recipients r ON r.org_id = x.org_id AND r.contact_id = x.contact_id AND r.status = 'replied';
    RETURN NULL;
END $$;

-- A stage's place, outcome or pipeline changed, or a stage came or went: the entries of
-- its pipeline's leads (moved on, past the first stage) are worked out again.
CREATE FUNCTION analytics_mark_stages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT l.org_id, 'crm.leads', l.id
    FROM (SELECT DISTINCT x.org_id, x.pipeline_id FROM changed_stages x) p
    JOIN leads l ON l.org_id = p.org_id AND l.pipeline_id = p.pipeline_id;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_mark_stages_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT l.org_id, 'crm.leads', l.id
    FROM (SELECT DISTINCT x.org_id, x.pipeline_id FROM old_stages o JOIN new_stages n ON n.id = o.id,
          LATERAL (VALUES (o.org_id, o.pipeline_id), (n.org_id, n.pipeline_id)) x(org_id, pipeline_id)
          WHERE (o.position, o.outcome, o.pipeline_id) IS DISTINCT FROM (n.position, n.outcome, n.pipeline_id)) p
    JOIN leads l ON l.org_id = p.org_id AND l.pipeline_id = p.pipeline_id;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_mark_lead_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT x.org_id, 'crm.leads', x.lead_id FROM changed_moves x;
    RETURN NULL;
END $$;

-- Written per send at thousands a second: one INSERT of the statement's campaigns, and
-- nothing for the rows that do not count yet (pending, claimed, skipped).
CREATE FUNCTION analytics_mark_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT x.org_id, 'crm.campaigns', x.campaign_id FROM changed_recipients x
    WHERE x.status NOT IN ('pending', 'claimed', 'skipped');
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_mark_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT DISTINCT x.org_id, 'crm.campaigns', x.id FROM changed_campaigns x WHERE x.launched_at IS NOT NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_mark_enrolments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key, at)
    SELECT DISTINCT x.org_id, 'crm.cadences', 0, date_trunc('hour', x.created_at) FROM changed_enrolments x;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_mark_org_zone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirty (org_id, kind, key)
    SELECT n.id, 'crm.cadences', -1 FROM new_orgs n JOIN old_orgs o ON o.id = n.id WHERE o.time_zone <> n.time_zone;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A trigger with transition tables answers one event, so each table has one per event.
CREATE TRIGGER analytics_leads_ins AFTER INSERT ON leads REFERENCING NEW TABLE AS changed_leads
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_leads();
CREATE TRIGGER analytics_leads_upd AFTER UPDATE ON leads REFERENCING NEW TABLE AS changed_leads
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_leads();
-- The old contact of a lead moved to another contact: its campaigns count one lead less.
CREATE TRIGGER analytics_leads_upd_old AFTER UPDATE ON leads REFERENCING OLD TABLE AS changed_leads
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_leads();
CREATE TRIGGER analytics_leads_del AFTER DELETE ON leads REFERENCING OLD TABLE AS changed_leads
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_leads();

CREATE TRIGGER analytics_lead_moves_ins AFTER INSERT ON lead_moves REFERENCING NEW TABLE AS changed_moves
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_lead_moves();
CREATE TRIGGER analytics_lead_moves_upd AFTER UPDATE ON lead_moves REFERENCING NEW TABLE AS changed_moves
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_lead_moves();
CREATE TRIGGER analytics_lead_moves_del AFTER DELETE ON lead_moves REFERENCING OLD TABLE AS changed_moves
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_lead_moves();

CREATE TRIGGER analytics_stages_ins AFTER INSERT ON stages REFERENCING NEW TABLE AS changed_stages
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stages();
CREATE TRIGGER analytics_stages_upd AFTER UPDATE ON stages REFERENCING OLD TABLE AS old_stages NEW TABLE AS new_stages
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stages_moved();
CREATE TRIGGER analytics_stages_del AFTER DELETE ON stages REFERENCING OLD TABLE AS changed_stages
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stages();

CREATE TRIGGER analytics_recipients_ins AFTER INSERT ON campaign_recipients REFERENCING NEW TABLE AS changed_recipients
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_recipients();
CREATE TRIGGER analytics_recipients_upd AFTER UPDATE ON campaign_recipients REFERENCING NEW TABLE AS changed_recipients
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_recipients();
CREATE TRIGGER analytics_recipients_del AFTER DELETE ON campaign_recipients REFERENCING OLD TABLE AS changed_recipients
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_recipients();

CREATE TRIGGER analytics_campaigns_ins AFTER INSERT ON campaigns REFERENCING NEW TABLE AS changed_campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_campaigns();
CREATE TRIGGER analytics_campaigns_upd AFTER UPDATE ON campaigns REFERENCING NEW TABLE AS changed_campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_campaigns();
CREATE TRIGGER analytics_campaigns_upd_old AFTER UPDATE ON campaigns REFERENCING OLD TABLE AS changed_campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_campaigns();
CREATE TRIGGER analytics_campaigns_del AFTER DELETE ON campaigns REFERENCING OLD TABLE AS changed_campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_campaigns();

CREATE TRIGGER analytics_enrolments_ins AFTER INSERT ON cadence_enrolments REFERENCING NEW TABLE AS changed_enrolments
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_enrolments();
CREATE TRIGGER analytics_enrolments_upd AFTER UPDATE ON cadence_enrolments REFERENCING NEW TABLE AS changed_enrolments
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_enrolments();
CREATE TRIGGER analytics_enrolments_del AFTER DELETE ON cadence_enrolments REFERENCING OLD TABLE AS changed_enrolments
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_enrolments();

CREATE TRIGGER analytics_crm_org_zone AFTER UPDATE ON orgs REFERENCING OLD TABLE AS old_orgs NEW TABLE AS new_orgs
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_org_zone();

-- Everything already there is counted by the first catch-ups.
INSERT INTO analytics_dirty (org_id, kind, key) SELECT org_id, 'crm.leads', id FROM leads;
INSERT INTO analytics_dirty (org_id, kind, key) SELECT org_id, 'crm.campaigns', id FROM campaigns WHERE launched_at IS NOT NULL;
INSERT INTO analytics_dirty (org_id, kind, key) SELECT id, 'crm.cadences', -1 FROM orgs;

-- +goose Down
DROP TRIGGER analytics_crm_org_zone ON orgs;
DROP TRIGGER analytics_enrolments_ins ON cadence_enrolments;
DROP TRIGGER analytics_enrolments_upd ON cadence_enrolments;
DROP TRIGGER analytics_enrolments_del ON cadence_enrolments;
DROP TRIGGER analytics_campaigns_ins ON campaigns;
DROP TRIGGER analytics_campaigns_upd ON campaigns;
DROP TRIGGER analytics_campaigns_upd_old ON campaigns;
DROP TRIGGER analytics_campaigns_del ON campaigns;
DROP TRIGGER analytics_recipients_ins ON campaign_recipients;
DROP TRIGGER analytics_recipients_upd ON campaign_recipients;
DROP TRIGGER analytics_recipients_del ON campaign_recipients;
DROP TRIGGER analytics_stages_ins ON stages;
DROP TRIGGER analytics_stages_upd ON stages;
DROP TRIGGER analytics_stages_del ON stages;
DROP TRIGGER analytics_lead_moves_ins ON lead_moves;
DROP TRIGGER analytics_lead_moves_upd ON lead_moves;
DROP TRIGGER analytics_lead_moves_del ON lead_moves;
DROP TRIGGER analytics_leads_ins ON leads;
DROP TRIGGER analytics_leads_upd ON leads;
DROP TRIGGER analytics_leads_upd_old ON leads;
DROP TRIGGER analytics_leads_del ON leads;
DROP FUNCTION analytics_recipient_step(bigint, text, bigint, timestamptz);
DROP FUNCTION analytics_recipient_status_step(text);
DROP FUNCTION analytics_mark_stages(), analytics_mark_stages_moved();
DROP FUNCTION analytics_mark_org_zone(), analytics_mark_enrolments(), analytics_mark_campaigns(),
    analytics_mark_recipients(), analytics_mark_lead_moves(), analytics_mark_leads();
DROP INDEX campaign_recipients_contact_campaign, cadence_enrolments_org_created;
DROP TABLE analytics_cadence_hours, analytics_campaigns, analytics_lead_entries;
