package web

import (
	"context"

	"masteria/app/model"
	"masteria/app/store"
)

// QRSessions are the WhatsApp-by-QR sessions the settings pages pair and unlink (the
// wameow channel implements it), so the web layer imports no provider package.
type QRSessions interface {
	// QR is the channel's current pairing code.
	QR(ctx context.Context, orgID, id int64) (store.QRCode, error)
	// DrawQR draws a pairing code as an SVG path of size×size modules.
	DrawQR(code string) (path string, size int, err error)
	Pair(ctx context.Context, a model.Actor, id int64) (model.Channel, error)
	Disconnect(ctx context.Context, a model.Actor, id int64) (model.Channel, error)
	// Wake looks for sessions to run now: a QR channel was just created.
	Wake()
}
