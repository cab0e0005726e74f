-- Call campaigns (migration 00026): a campaign with a voice number calls its audience; the
-- ledger is campaign_recipients, the calls are rows of calls with the campaign's id.

-- name: call-campaign-lock
-- Serializes the runners of one call campaign while they count its calls and claim.
SELECT pg_advisory_xact_lock(hashtextextended('call-campaign:' || $1::text || ':' || $2::text, 0));

-- name: call-campaign-live
-- The campaign's calls running now (registered or ongoing) and its recipients being dialled
-- (claimed): for a moment a call may count twice (its row and its claim), never zero times.
-- A call with no news for two hours (its events were lost) stops counting, as in dial.
SELECT (SELECT count(*) FROM calls k WHERE k.org_id = $1 AND k.campaign_id = $2 AND k.status IN ('registered', 'ongoing')
        AND k.created_at > now() - interval '2 hours')
     + (SELECT count(*) FROM campaign_recipients r WHERE r.org_id = $1 AND r.campaign_id = $2 AND r.status = 'claimed');

-- name: call-campaign-calling
-- Recipients of the campaign being dialled or in a call: the campaign is not done while any is.
SELECT count(*) FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND status IN ('claimed', 'sent');

-- name: call-recipient-called
-- Retell took the call ($3, its call id). A recipient the call's events settled already (they
-- overtook the runner) keeps what they said.
UPDATE campaign_recipients SET status = 'sent', provider_id = $3, sent_at = coalesce(sent_at, now()),
       error_code = '', error_title = '', updated_at = now()
WHERE org_id = $1 AND id = $2 AND status = 'claimed' AND NOT ($3 = ANY(calls_done));

-- name: call-recipient-settle
-- A call of the campaign ended: its recipient (the campaign's row of the call's contact) is
-- answered, tried again after the delay while it has attempts left, or failed with the
-- reason. Once per call: a duplicate or a late event of a call already settled, or of
-- another call than the one in progress, changes nothing.
-- $1 org, $2 campaign, $3 contact, $4 Retell call id, $5 outcome (answered, retry, failed),
-- $6 result, $7 words, $8 retry delay (minutes), $9 attempts allowed, $10 successful.
UPDATE campaign_recipients r SET
    status = CASE WHEN $5 = 'answered' THEN 'answered'
                  WHEN $5 = 'retry' AND r.attempts < $9::int THEN 'pending' ELSE 'failed' END,
    not_before = CASE WHEN $5 = 'retry' AND r.attempts < $9::int THEN now() + make_interval(mins => $8::int) ELSE r.not_before END,
    call_result = $6, provider_id = $4, calls_done = array_append(r.calls_done, $4::text),
    call_successful = coalesce($10::boolean, r.call_successful),
    claimed_at = NULL, sent_at = coalesce(r.sent_at, now()),
    delivered_at = CASE WHEN $5 = 'answered' THEN now() ELSE r.delivered_at END,
    failed_at = CASE WHEN $5 = 'answered' OR ($5 = 'retry' AND r.attempts < $9::int) THEN r.failed_at ELSE now() END,
    error_code = CASE WHEN $5 = 'answered' THEN '' ELSE $6 END, error_title = CASE WHEN $5 = 'answered' THEN '' ELSE $7 END,
    updated_at = now()
WHERE r.org_id = $1 AND r.campaign_id = $2 AND r.contact_id = $3 AND r.status IN ('claimed', 'sent')
  AND NOT ($4::text = ANY(r.calls_done)) AND (r.status = 'claimed' OR r.provider_id IS NULL OR r.provider_id = $4)
RETURNING r.id, r.campaign_id, r.contact_id, r.status;

-- name: call-recipients-lost
-- Recipients in a call Retell said nothing more about for two hours (its events were lost,
-- or the call is gone): tried again after the delay while attempts are left, else failed.
-- A late event of such a call settles nothing (calls_done). $3 retry delay (minutes),
-- $4 attempts allowed.
UPDATE campaign_recipients r SET
    status = CASE WHEN r.attempts < $4::int THEN 'pending' ELSE 'failed' END,
    not_before = CASE WHEN r.attempts < $4::int THEN now() + make_interval(mins => $3::int) ELSE r.not_before END,
    failed_at = CASE WHEN r.attempts < $4::int THEN r.failed_at ELSE now() END,
    calls_done = array_append(r.calls_done, coalesce(r.provider_id, '')),
    call_result = 'dial_failed', error_code = 'dial_failed', error_title = 'Retell gave no news of the call.',
    updated_at = now()
WHERE r.org_id = $1 AND r.campaign_id = $2 AND r.status = 'sent' AND r.sent_at < now() - interval '2 hours'
  AND NOT EXISTS (SELECT 1 FROM calls k WHERE k.org_id = r.org_id AND k.call_id = r.provider_id
                  AND k.status IN ('registered', 'ongoing') AND k.created_at > now() - interval '2 hours')
RETURNING r.id, r.campaign_id, r.contact_id, r.status;

-- name: call-recipient-success
-- Retell's analysis of a settled call: whether it reached its goal.
UPDATE campaign_recipients SET call_successful = $4, updated_at = now()
WHERE org_id = $1 AND campaign_id = $2 AND provider_id = $3 AND call_successful IS DISTINCT FROM $4
RETURNING id, campaign_id, contact_id, status;

-- name: call-campaign-figures
-- A call campaign's progress in plain words.
SELECT count(*) FILTER (WHERE r.attempts > 0 AND r.status <> 'skipped') AS called,
       (SELECT count(*) FROM calls k WHERE k.org_id = $1 AND k.campaign_id = $2) AS calls,
       (SELECT count(*) FROM calls k WHERE k.org_id = $1 AND k.campaign_id = $2 AND k.status IN ('registered', 'ongoing')) AS live,
       count(*) FILTER (WHERE r.status = 'answered') AS answered,
       count(*) FILTER (WHERE r.status <> 'answered' AND r.call_result = 'voicemail') AS voicemail,
       count(*) FILTER (WHERE r.status <> 'answered' AND r.call_result IN ('no_answer', 'busy')) AS no_answer,
       count(*) FILTER (WHERE r.status = 'pending' AND r.attempts > 0) AS to_retry,
       count(*) FILTER (WHERE r.status = 'failed') AS failed,
       count(*) FILTER (WHERE r.call_successful) AS successful,
       count(*) FILTER (WHERE r.status = 'pending' AND r.attempts = 0) AS pending
FROM campaign_recipients r WHERE r.org_id = $1 AND r.campaign_id = $2;

-- name: call-campaigns-of-number
-- Running or scheduled call campaigns of a voice number.
SELECT id FROM campaigns WHERE org_id = $1 AND voice_number_id = $2 AND status IN ('running', 'scheduled');
