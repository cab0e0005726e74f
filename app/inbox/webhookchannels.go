package inbox

import (
	"context"
	"sync"
	"time"

	"masteria/app/model"
)

// webhookChannelTTL is how long a webhook's channel and its opened secrets are reused: a
// busy number sends hundreds of webhooks a second, each of which would otherwise read the
// row and open the sealed secrets again. A channel changed elsewhere is seen within this
// time; a signature that fails against the cached secret is checked against the stored one.
const webhookChannelTTL = 5 * time.Second

type cachedChannel struct {
	ch      model.Channel
	secrets map[string]string
	until   time.Time
}

type channelCache struct {
	mu sync.Mutex
	m  map[int64]cachedChannel
}

// WebhookChannel returns the channel a webhook URL names, from any org (the caller checks
// the signature with its secret), with its opened secrets; fresh skips the cache.
func (s *Service) WebhookChannel(ctx context.Context, id int64, fresh bool) (model.Channel, map[string]string, error) {
	now := time.Now()
	s.hooks.mu.Lock()
	c, ok := s.hooks.m[id]
	s.hooks.mu.Unlock()
	if ok && !fresh && now.Before(c.until) {
		return c.ch, c.secrets, nil
	}
	ch, err := s.st.ChannelForWebhook(ctx, id)
	if err != nil {
		return ch, nil, err
	}
	secrets, err := s.Secrets(ch)
	if err != nil {
		return ch, nil, err
	}
	s.hooks.mu.Lock()
	if s.hooks.m == nil || len(s.hooks.m) >= 10_000 { // bounded: start over rather than grow
		s.hooks.m = map[int64]cachedChannel{}
	}
	s.hooks.m[id] = cachedChannel{ch: ch, secrets: secrets, until: now.Add(webhookChannelTTL)}
	s.hooks.mu.Unlock()
	return ch, secrets, nil
}

// forgetChannel drops a channel from this instance's webhook cache (it was disconnected).
func (s *Service) forgetChannel(id int64) {
	s.hooks.mu.Lock()
	delete(s.hooks.m, id)
	s.hooks.mu.Unlock()
}
