package ui

import (
	"context"

	"masteria/app/model"
)

// DuplicateSMSText is a duplicate SMS refusal (model.DuplicateSMSDetail) in the reader's
// language: "skipped: same SMS sent at 14:02 by cadence Boas-vindas".
func DuplicateSMSText(ctx context.Context, detail string) string {
	at, source, name, ok := model.ParseDuplicateSMSDetail(detail)
	if !ok {
		return T(ctx, "campaigns.run.skip.duplicate_sms")
	}
	kind := T(ctx, "policy.source.campaign")
	if source == "cadence" {
		kind = T(ctx, "policy.source.cadence")
	}
	return T(ctx, "policy.reason.duplicate_sms", "time", at, "source", kind, "name", name)
}
