package wameow

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QRImage is a pairing code drawn as an SVG path: one unit per module, inside a square of
// Size units that includes the quiet zone scanners need.
type QRImage struct {
	Path string
	Size int
}

// DrawQR encodes code as a QR code for the connect page. It is drawn on the server as SVG,
// so the page needs no script to show it and it stays sharp at any size.
func DrawQR(code string) (QRImage, error) {
	q, err := qrcode.New(code, qrcode.Medium)
	if err != nil {
		return QRImage{}, fmt.Errorf("wameow: qr: %w", err)
	}
	bits := q.Bitmap() // with a 4-module quiet zone
	var b strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	return QRImage{Path: b.String(), Size: len(bits)}, nil
}

// DrawQR is the package's DrawQR for the settings pages (web.QRSessions).
func (m *Manager) DrawQR(code string) (path string, size int, err error) {
	img, err := DrawQR(code)
	return img.Path, img.Size, err
}
