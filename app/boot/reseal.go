package boot

import (
	"context"
	"fmt"

	"masteria/app/account"
	"masteria/app/ai/provider"
	"masteria/app/hooks"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/numbers"
)

// Reseal is `masteria keys rotate`: every sealed value (org secrets, channel secrets, AI and
// Retell keys, SIP passwords, webhook signing secrets) sealed with a key other than the
// ring's primary is sealed again with it, so the old key can then leave
// MASTERIA_SECRET_KEY. Safe to run again and beside running instances.
func Reseal(ctx context.Context, st *store.Store, ring *vault.Ring) (int, error) {
	n, err := account.NewSecrets(st, ring).Rotate(ctx)
	if err != nil {
		return n, err
	}
	h, err := hooks.Reseal(ctx, st, ring)
	n += h
	if err != nil {
		return n, err
	}
	tables := []struct {
		kind store.SealedKind
		ad   func(store.Sealed) []byte // the associated data each was sealed with
	}{
		{store.SealedChannels, func(v store.Sealed) []byte { return inbox.SecretsAD(v.ID) }},
		{store.SealedAIProviders, func(v store.Sealed) []byte { return provider.KeyAD(v.OrgID) }},
		{store.SealedVoiceAccounts, func(v store.Sealed) []byte { return voice.KeyAD(v.OrgID, v.ID) }},
		{store.SealedVoiceNumbers, func(v store.Sealed) []byte { return []byte(numbers.PasswordAD(model.VoiceNumber{ID: v.ID})) }},
	}
	for _, t := range tables {
		vals, err := st.SealedValues(ctx, t.kind)
		if err != nil {
			return n, err
		}
		for _, v := range vals {
			if !ring.NeedsReseal(v.Sealed) {
				continue
			}
			fresh, err := ring.Reseal(v.Sealed, t.ad(v))
			if err != nil {
				return n, fmt.Errorf("boot: reseal %s %d: %w", t.kind, v.ID, err)
			}
			ok, err := st.ResealValue(ctx, t.kind, v, fresh)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
	return n, nil
}
