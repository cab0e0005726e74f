-- name: campaign-insert
-- $9 the voice number of a call campaign: only the org's (another org's is left null, and
-- validation refuses it before).
INSERT INTO campaigns (org_id, name, channel_id, audience, message, settings, scheduled_at, created_by, voice_number_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT n.id FROM voice_numbers n WHERE n.org_id = $1 AND n.id = $9))
RETURNING id;

-- name: campaign
SELECT id, org_id, name, channel_id, voice_number_id, status, audience, message, settings, scheduled_at, launched_at, finished_at,
       pause_reason, pause_detail, winner, created_by, created_at, updated_at
FROM campaigns WHERE org_id = $1 AND id = $2;

-- name: campaigns
-- A page of an org's campaigns, newest first, before id $2 (0: from the newest).
SELECT id, org_id, name, channel_id, voice_number_id, status, audience, message, settings, scheduled_at, launched_at, finished_at,
       pause_reason, pause_detail, winner, created_by, created_at, updated_at
FROM campaigns WHERE org_id = $1 AND ($2 = 0 OR id < $2)
ORDER BY id DESC LIMIT $3;

-- name: campaign-update
-- A draft's content; a campaign that started keeps what it launched with.
UPDATE campaigns SET name = $3, channel_id = $4, audience = $5, message = $6, settings = $7, scheduled_at = $8,
       voice_number_id = (SELECT n.id FROM voice_numbers n WHERE n.org_id = $1 AND n.id = $9), updated_at = now()
WHERE org_id = $1 AND id = $2 AND status IN ('draft', 'scheduled');

-- name: campaign-delete
DELETE FROM campaigns WHERE org_id = $1 AND id = $2 AND status IN ('draft', 'completed', 'cancelled');

-- name: campaign-move
-- A change of status, only from the states in $4: a campaign launched twice, or paused once
-- it has finished, changes nothing.
UPDATE campaigns SET status = $3, pause_reason = $5, pause_detail = $6, updated_at = now(),
       launched_at = CASE WHEN $3 = 'running' AND launched_at IS NULL THEN now() ELSE launched_at END,
       finished_at = CASE WHEN $3 IN ('completed', 'cancelled') THEN now() ELSE finished_at END
WHERE org_id = $1 AND id = $2 AND status = ANY($4::text[])
RETURNING status;

-- name: campaign-status
SELECT status FROM campaigns WHERE org_id = $1 AND id = $2;

-- name: campaign-set-winner
UPDATE campaigns SET winner = $3, updated_at = now() WHERE org_id = $1 AND id = $2 AND winner IS NULL;

-- name: campaigns-due
-- cross-org: scheduled campaigns whose time has come, for the scheduler.
SELECT org_id, id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= now() ORDER BY scheduled_at LIMIT 100;

-- name: campaigns-running
-- cross-org: campaigns the engine should be working on (runners are re-queued at start).
SELECT org_id, id FROM campaigns WHERE status = 'running' ORDER BY id;

-- name: campaign-progress
SELECT status, count(*) AS n FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 GROUP BY status;

-- name: campaign-per-minute
-- Sends per minute over the last hour of the campaign, for the progress chart.
SELECT date_trunc('minute', sent_at) AS minute, count(*) AS n FROM campaign_recipients
WHERE org_id = $1 AND campaign_id = $2 AND sent_at IS NOT NULL AND sent_at > $3
GROUP BY 1 ORDER BY 1;

-- name: campaign-variants
-- Each variant's sends and how many were read and replied, for the A/B test.
SELECT variant, count(*) FILTER (WHERE recipient_rank(status) BETWEEN 2 AND 6 AND status NOT IN ('failed', 'capped')) AS sent,
       count(*) FILTER (WHERE status IN ('read', 'replied')) AS read,
       count(*) FILTER (WHERE status = 'replied') AS replied
FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND variant IS NOT NULL AND status <> 'skipped'
GROUP BY variant ORDER BY variant;

-- name: recipients-release-winner
-- The rest of the audience gets the winning variant.
UPDATE campaign_recipients SET variant = $3, not_before = 'epoch', updated_at = now()
WHERE org_id = $1 AND campaign_id = $2 AND variant IS NULL AND status = 'pending';

-- name: recipients-claim
-- A runner's next batch: due pending recipients, locked so no other runner (on any
-- instance) takes them. Their claim is the mark of a send in flight.
WITH due AS (
    SELECT id FROM campaign_recipients
    WHERE org_id = $1 AND campaign_id = $2 AND status = 'pending' AND not_before <= now()
    ORDER BY not_before, id LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE campaign_recipients r SET status = 'claimed', claimed_at = now(), attempts = r.attempts + 1, updated_at = now()
FROM due WHERE r.id = due.id AND r.org_id = $1
RETURNING r.id, r.contact_id, r.name, r.address, r.variant, r.params, r.zone, r.message_id, r.attempts;

-- name: recipients-next-due
-- When the next pending recipient of a campaign is due (null: none is pending).
SELECT min(not_before) FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND status = 'pending';

-- name: recipients-in-flight
SELECT count(*) FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND status = 'claimed';

-- name: recipients-defer
-- Claimed recipients that must wait (quiet hours, a pair-rate answer, a retry): back to
-- pending until their time. $4 says whether the claim counted as an attempt.
UPDATE campaign_recipients r SET status = 'pending', not_before = u.at, claimed_at = NULL, updated_at = now(),
       attempts = CASE WHEN $4 THEN r.attempts ELSE r.attempts - 1 END,
       error_code = u.code, error_title = u.title
FROM unnest($2::bigint[], $3::timestamptz[], $5::text[], $6::text[]) AS u(id, at, code, title)
WHERE r.org_id = $1 AND r.id = u.id AND r.status = 'claimed';

-- name: recipients-set-message
-- A recipient's queued message, and whether the send counts toward WhatsApp's 24-hour
-- limit: known before the send, so a status report that overtakes the runner's record
-- leaves it counted.
UPDATE campaign_recipients r SET message_id = u.message_id, counted = u.counted
FROM unnest($2::bigint[], $3::bigint[], $4::boolean[]) AS u(id, message_id, counted)
WHERE r.org_id = $1 AND r.id = u.id;

-- name: sends-lock
-- What a runner writes after a batch of sends, locked before anything is written: the
-- batch's messages in id order, then its recipients in id order. Status reports write the
-- same rows (statuses-lock): every writer of both locks messages first and each table in id
-- order, so no two wait for each other in a circle (a deadlock, which PostgreSQL breaks
-- after deadlock_timeout by rolling one back). The ARRAY() is a one-time condition: it
-- reads, and locks, every message before the first recipient is read.
SELECT r.id FROM campaign_recipients r
WHERE r.org_id = $1 AND r.id = ANY($3::bigint[])
  AND cardinality(ARRAY(SELECT m.id FROM messages m WHERE m.org_id = $1 AND m.id = ANY($2::bigint[])
                        ORDER BY m.id FOR UPDATE)) >= 0
ORDER BY r.id FOR UPDATE OF r;

-- name: recipients-sent
-- The provider took these sends. A recipient a status report already moved on (it named
-- the send by its Ref before this answer was recorded) keeps its later status.
UPDATE campaign_recipients r SET status = CASE WHEN r.status = 'claimed' THEN 'sent' ELSE r.status END,
       provider_id = u.provider_id, sent_at = coalesce(r.sent_at, now()), counted = u.counted,
       error_code = '', error_title = '', updated_at = now()
FROM unnest($2::bigint[], $3::text[], $4::boolean[]) AS u(id, provider_id, counted)
WHERE r.org_id = $1 AND r.id = u.id AND r.status IN ('claimed', 'sent', 'delivered', 'read', 'replied');

-- name: recipients-failed
-- Sends the provider refused for good (its code and words), or that ran out of attempts.
UPDATE campaign_recipients r SET status = u.status, error_code = u.code, error_title = u.title,
       failed_at = now(), updated_at = now(),
       -- A send the contact policy skipped (opted out, no phone, a duplicate SMS) says why.
       skip_reason = CASE WHEN u.status = 'skipped' THEN u.code ELSE r.skip_reason END,
       not_before = CASE WHEN u.status = 'capped' THEN now() + make_interval(days => $6) ELSE r.not_before END
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(id, status, code, title)
WHERE r.org_id = $1 AND r.id = u.id AND r.status IN ('claimed', 'pending');

-- name: recipients-by-message
-- A provider's status report of campaign messages: the recipients move forward only. A
-- send whose answer was lost learns its provider id here, from the message the report's
-- Ref reconciled.
UPDATE campaign_recipients r SET status = $3, error_code = $4, error_title = $5, updated_at = now(),
       provider_id = coalesce(r.provider_id,
           (SELECT m.provider_id FROM messages m WHERE m.org_id = r.org_id AND m.id = r.message_id)),
       delivered_at = CASE WHEN $3 IN ('delivered', 'read') THEN coalesce(r.delivered_at, now()) ELSE r.delivered_at END,
       read_at = CASE WHEN $3 = 'read' THEN coalesce(r.read_at, now()) ELSE r.read_at END,
       failed_at = CASE WHEN $3 IN ('failed', 'capped') THEN now() ELSE r.failed_at END,
       sent_at = coalesce(r.sent_at, now()),
       not_before = CASE WHEN $3 = 'capped' THEN now() + make_interval(days => coalesce(
           (SELECT (c.settings ->> 'capped_retry_days')::int FROM campaigns c WHERE c.org_id = r.org_id AND c.id = r.campaign_id), 0))
           ELSE r.not_before END
WHERE r.org_id = $1 AND r.message_id = ANY($2::bigint[]) AND recipient_rank($3) > recipient_rank(r.status)
RETURNING r.id, r.campaign_id, r.contact_id, r.status;

-- name: recipients-replied
-- A customer wrote to a channel: their latest campaign send on it within its reply window
-- counts as replied.
UPDATE campaign_recipients r SET status = 'replied', replied_at = $4::timestamptz, updated_at = now()
FROM campaigns c
WHERE r.org_id = $1 AND r.channel_id = $2 AND r.contact_id = $3 AND c.org_id = r.org_id AND c.id = r.campaign_id
  AND r.sent_at IS NOT NULL AND r.status IN ('sent', 'delivered', 'read')
  AND r.sent_at > $4::timestamptz - make_interval(hours => coalesce((c.settings ->> 'reply_hours')::int, 72))
RETURNING r.id, r.campaign_id, r.contact_id, r.status;

-- name: recipients-stale
-- cross-org: claims older than the lease whose runner died. A send a status report
-- reconciled meanwhile (its message has a provider id) is recorded as sent; the others go
-- back to pending, to be sent again. A claim a runner may still send is not stale, however
-- old: the runner's job attempt that made it (started before the claim) still runs within
-- its timeout $2, waiting for its slot at a slowed pace or for the provider's answer.
WITH stale AS (
    SELECT r.id, m.provider_id, m.status AS message_status FROM campaign_recipients r
    LEFT JOIN messages m ON m.id = r.message_id AND m.org_id = r.org_id
    WHERE r.status = 'claimed' AND r.claimed_at < now() - $1::interval
      AND NOT EXISTS (SELECT 1 FROM river_job j
                      WHERE j.kind = 'campaign.run' AND j.state = 'running'
                        AND (j.args ->> 'campaign_id')::bigint = r.campaign_id
                        AND j.attempted_at <= r.claimed_at AND j.attempted_at > now() - $2::interval)
    ORDER BY r.claimed_at LIMIT 1000
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE campaign_recipients r SET
    status = CASE WHEN stale.provider_id IS NULL THEN 'pending'
                  WHEN stale.message_status IN ('delivered', 'read') THEN stale.message_status ELSE 'sent' END,
    provider_id = stale.provider_id,
    sent_at = CASE WHEN stale.provider_id IS NOT NULL THEN now() ELSE r.sent_at END,
    claimed_at = CASE WHEN stale.provider_id IS NOT NULL THEN r.claimed_at END,
    not_before = now(), updated_at = now()
FROM stale WHERE r.id = stale.id
RETURNING r.org_id, r.campaign_id, r.id, r.status;

-- name: recipients-recent-failures
-- Of a campaign's last $3 sends, how many failed (the auto-pause threshold).
SELECT count(*) FILTER (WHERE status = 'failed') AS failed, count(*) AS total FROM (
    SELECT status FROM campaign_recipients
    WHERE org_id = $1 AND campaign_id = $2 AND claimed_at IS NOT NULL AND status NOT IN ('claimed', 'pending')
    ORDER BY claimed_at DESC LIMIT $3
) last;

-- name: recipients-retry-failed
-- "Retry failed": recipients whose send failed for a reason that may pass go again, as a
-- new message.
UPDATE campaign_recipients SET status = 'pending', not_before = now(), message_id = NULL, provider_id = NULL,
       claimed_at = NULL, error_code = '', error_title = '', failed_at = NULL, updated_at = now()
WHERE org_id = $1 AND campaign_id = $2 AND status = 'failed' AND NOT (error_code = ANY($3::text[]));

-- name: recipients-retry-capped
-- cross-org: recipients WhatsApp withheld (131049) whose wait is over go again.
UPDATE campaign_recipients r SET status = 'pending', message_id = NULL, provider_id = NULL, claimed_at = NULL,
       error_code = '', error_title = '', failed_at = NULL, updated_at = now()
FROM campaigns c
WHERE r.status = 'capped' AND r.not_before <= now() AND c.id = r.campaign_id AND c.org_id = r.org_id
  AND (c.settings ->> 'capped_retry_days')::int > 0 AND c.status IN ('running', 'completed')
RETURNING r.org_id, r.campaign_id;

-- name: recipients
-- A page of a campaign's recipients, filtered by status ('' all), after id $4.
SELECT r.id, r.org_id, r.campaign_id, r.channel_id, r.contact_id, r.name, r.address, r.kept_contact_id, r.variant,
       r.country, r.status, r.skip_reason, r.attempts, CASE WHEN isfinite(r.not_before) THEN r.not_before WHEN r.not_before > now() THEN '9999-12-31' ELSE 'epoch' END::timestamptz AS not_before, r.message_id, m.conversation_id, r.provider_id,
       r.error_code, r.error_title, r.sent_at, r.delivered_at, r.read_at, r.replied_at, r.failed_at, r.updated_at,
       r.call_result, r.call_successful
FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id AND m.org_id = r.org_id
WHERE r.org_id = $1 AND r.campaign_id = $2 AND ($3 = '' OR r.status = $3) AND r.id > $4
ORDER BY r.id LIMIT $5;

-- name: reach-24h
-- People reached outside a service window in the last 24 hours through the channels of
-- one WhatsApp Business Account: WhatsApp's messaging limit, counted from our own ledger.
-- Sends in flight count too, so runners on every instance stay under it together.
SELECT count(DISTINCT r.dedup_key) FROM campaign_recipients r
WHERE r.org_id = $1 AND r.channel_id = ANY($2::bigint[])
  AND ((r.counted AND r.sent_at > now() - interval '24 hours') OR r.status = 'claimed');

-- name: reach-lock
-- Serializes the runners of one business account while they count and claim.
SELECT pg_advisory_xact_lock(hashtextextended('campaign-reach:' || $1::text || ':' || $2::text, 0));

-- name: reach-oldest
-- When the oldest counted send of the last 24 hours leaves the window.
SELECT min(r.sent_at) + interval '24 hours' FROM campaign_recipients r
WHERE r.org_id = $1 AND r.counted AND r.sent_at > now() - interval '24 hours' AND r.channel_id = ANY($2::bigint[]);

-- name: channel-sent-since
-- How many messages campaigns sent through a channel since a time (a QR number's daily cap).
SELECT count(*) FROM campaign_recipients WHERE org_id = $1 AND channel_id = $2 AND sent_at >= $3;

-- name: pace-reserve
-- Reserves $3 seconds of a channel's sending time for every instance at once (a GCRA): the
-- batch's sends go from the returned start, spaced by its own clock. The pace, cut by
-- throttling, recovers linearly over two minutes.
INSERT INTO channel_pace AS p (channel_id, org_id, tat) VALUES ($2, $1, now() + make_interval(secs => $3))
ON CONFLICT (channel_id) DO UPDATE SET
    tat = greatest(p.tat, now()) + make_interval(secs => $3 / least(1, p.factor + extract(epoch FROM now() - p.slowed_at) / 120))
RETURNING tat - make_interval(secs => $3 / least(1, p.factor + extract(epoch FROM now() - p.slowed_at) / 120)) AS start,
          least(1, p.factor + extract(epoch FROM now() - p.slowed_at) / 120) AS factor;

-- name: pace-slow-down
-- The provider said "too many": every instance halves the channel's pace.
INSERT INTO channel_pace AS p (channel_id, org_id, factor, slowed_at) VALUES ($2, $1, 0.5, now())
ON CONFLICT (channel_id) DO UPDATE SET
    factor = greatest(0.05, least(1, p.factor + extract(epoch FROM now() - p.slowed_at) / 120) / 2), slowed_at = now(),
    tat = greatest(p.tat, now()) + make_interval(secs => $3);

-- name: channel-limits-set
UPDATE channels SET messaging_limit = $3, quality = $4, limits_at = now() WHERE org_id = $1 AND id = $2;

-- name: channel-limits
SELECT messaging_limit, quality, limits_at, send_settings FROM channels WHERE org_id = $1 AND id = $2;

-- name: channel-send-settings-set
UPDATE channels SET send_settings = $3, rate = $4, updated_at = now() WHERE org_id = $1 AND id = $2;

-- name: campaigns-using-template
-- Running campaigns of a channel that send a template (by name), to pause when it is paused.
SELECT id FROM campaigns
WHERE org_id = $1 AND channel_id = $2 AND status IN ('running', 'scheduled')
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(message -> 'variants') v WHERE v ->> 'template' = $3);

-- name: campaigns-of-channel
SELECT id FROM campaigns WHERE org_id = $1 AND channel_id = $2 AND status IN ('running', 'scheduled');

-- name: prices
SELECT kind, country, category, price, currency FROM campaign_prices WHERE org_id = $1 ORDER BY kind, country, category;

-- name: price-set
INSERT INTO campaign_prices (org_id, kind, country, category, price, currency) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (org_id, kind, country, category) DO UPDATE SET price = excluded.price, currency = excluded.currency;

-- name: price-delete
DELETE FROM campaign_prices WHERE org_id = $1 AND kind = $2 AND country = $3 AND category = $4;

-- name: org-time-zone
SELECT time_zone FROM orgs WHERE id = $1;

-- name: audience-owned
-- How many of an audience's tags, stages and contacts, and whether its segment and import,
-- belong to the org: anything else is another org's, and the draft is refused.
SELECT (SELECT count(*) FROM tags WHERE org_id = $1 AND id = ANY($2::bigint[])) AS tags,
       (SELECT count(*) FROM stages s WHERE s.org_id = $1 AND s.id = ANY($3::bigint[])) AS stages,
       (SELECT count(*) FROM contacts WHERE org_id = $1 AND id = ANY($4::bigint[])) AS contacts,
       (SELECT count(*) FROM segments WHERE org_id = $1 AND id = $5) AS segments,
       (SELECT count(*) FROM contact_imports WHERE org_id = $1 AND id = $6) AS imports;

-- name: messages-states
-- The messages of recipients tried before: one a status report reconciled is not sent again.
SELECT id, status, provider_id, error_code, error_title FROM messages WHERE org_id = $1 AND id = ANY($2::bigint[]);

-- name: campaign-runners-alive
-- cross-org: River's jobs are ours; does a runner of the campaign wait or work (a runner
-- that started its slice within the last two minutes)? One stuck "running" by a process
-- that died is not alive.
SELECT count(*) FROM river_job
WHERE kind = 'campaign.run' AND (args ->> 'campaign_id')::bigint = $1
  AND (state IN ('available', 'scheduled', 'retryable', 'pending')
       OR (state = 'running' AND attempted_at > now() - $2::interval));

-- name: campaign-summaries
-- The recipients of a page of an org's campaigns by status, for the list: one query however
-- many campaigns the page shows.
SELECT campaign_id, status, count(*) AS n FROM campaign_recipients
WHERE org_id = $1 AND campaign_id = ANY($2::bigint[]) GROUP BY campaign_id, status;

-- name: campaign-runners-waiting
-- cross-org: River's jobs are ours; a campaign's runners that wait (snoozed until a
-- recipient is due), to wake when it resumes or its A/B winner is released.
SELECT id FROM river_job
WHERE kind = 'campaign.run' AND (args ->> 'campaign_id')::bigint = $1 AND state IN ('scheduled', 'retryable');
