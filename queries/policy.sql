-- The contact policy (app/campaign/policy): the org's settings, what a send is checked
-- against, the automated sends the frequency cap counts and the SMS duplication guard.

-- name: policy-settings
SELECT daily_cap, quiet_start, quiet_end, sms_dedup_hours FROM org_contact_policy WHERE org_id = $1;

-- name: policy-settings-save
INSERT INTO org_contact_policy (org_id, daily_cap, quiet_start, quiet_end, sms_dedup_hours) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (org_id) DO UPDATE SET daily_cap = $2, quiet_start = $3, quiet_end = $4, sms_dedup_hours = $5, updated_at = now();

-- name: policy-contact
-- What a send to one contact is checked against: its opt-outs, phone and zone, the org's
-- zone and settings (defaults when never saved), and the times of its automated sends
-- since $3 (the last 24 hours), newest first, in microseconds since 1970.
SELECT c.opted_out, c.phone, coalesce(c.attributes ->> 'time_zone', '') AS zone,
       (SELECT o.time_zone FROM orgs o WHERE o.id = $1) AS org_zone,
       coalesce(p.daily_cap, 2) AS daily_cap, coalesce(p.quiet_start, 21) AS quiet_start,
       coalesce(p.quiet_end, 8) AS quiet_end, coalesce(p.sms_dedup_hours, 24) AS sms_dedup_hours,
       ARRAY(SELECT (extract(epoch FROM a.sent_at) * 1000000)::bigint FROM automated_sends a
             WHERE a.org_id = $1 AND a.contact_id = $2 AND a.sent_at > $3
             ORDER BY a.sent_at DESC LIMIT 64) AS recent
FROM contacts c LEFT JOIN org_contact_policy p ON p.org_id = $1
WHERE c.org_id = $1 AND c.id = $2;

-- name: policy-lock
-- Serializes the sends to one contact while one counts its sends and records another.
SELECT pg_advisory_xact_lock(hashtextextended('contact-policy:' || $1::text || ':' || $2::text, 0));

-- name: automated-send-insert
INSERT INTO automated_sends (org_id, contact_id, channel, source, source_id, source_name, sent_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: sms-send-insert
-- Takes the SMS's slot; nothing when the same text went to the same phone within the
-- window (the exclusion constraint sms_sends_no_duplicate, waiting on a concurrent send).
INSERT INTO sms_sends (org_id, phone, text_hash, sent_at, during, contact_id, source, source_id, source_name)
VALUES ($1, $2, $3, $4, tstzrange($4::timestamptz, $4::timestamptz + make_interval(hours => $5::int)), $6, $7, $8, $9)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: sms-send-conflict
-- The earlier send a refused SMS collided with.
SELECT s.sent_at, s.source, s.source_id, s.source_name FROM sms_sends s
WHERE s.org_id = $1 AND s.phone = $2 AND s.text_hash = $3
  AND s.during && tstzrange($4::timestamptz, $4::timestamptz + make_interval(hours => $5::int))
ORDER BY s.sent_at LIMIT 1;

-- name: automated-sends-delete-old
-- cross-org: the cap counts 24 hours back; older sends count for nothing in every org.
DELETE FROM automated_sends WHERE sent_at < now() - interval '48 hours';

-- name: sms-sends-delete-old
-- cross-org: a slot whose window closed guards nothing, in any org.
DELETE FROM sms_sends WHERE upper(during) < now() - interval '1 hour';
