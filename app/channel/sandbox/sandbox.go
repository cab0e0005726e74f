// Package sandbox is a channel for demos and tests: it accepts every send and reports the
// message delivered, then read, after short delays, as a real phone would.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"masteria/app/channel"
	"masteria/app/model"
)

// Delays between accepting a message and reporting it delivered, then read.
var (
	DeliveredAfter = 300 * time.Millisecond
	ReadAfter      = 900 * time.Millisecond
)

type sandbox struct {
	id     int64
	report channel.StatusFunc
}

// New is the sandbox's channel.Factory.
func New(c model.Channel, _ map[string]string, report channel.StatusFunc) (channel.Channel, error) {
	return &sandbox{id: c.ID, report: report}, nil
}

func (s *sandbox) Kind() string { return model.KindSandbox }

func (s *sandbox) Capabilities() channel.Capabilities {
	return channel.Capabilities{Media: true, Templates: true, ReadReceipts: true}
}

// Send accepts the message and reports its progress in the background.
func (s *sandbox) Send(ctx context.Context, m channel.Outbound) (channel.Sent, error) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := "sbx." + hex.EncodeToString(b)
	if s.report != nil {
		go func() {
			bg := context.WithoutCancel(ctx)
			time.Sleep(DeliveredAfter)
			s.report(bg, s.id, id, model.StatusDelivered)
			time.Sleep(ReadAfter - DeliveredAfter)
			s.report(bg, s.id, id, model.StatusRead)
		}()
	}
	return channel.Sent{ProviderID: id}, nil
}
