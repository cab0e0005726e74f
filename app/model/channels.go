package model

// Channel statuses: a QR channel is pending until its phone is linked; a test that the
// provider refuses leaves error (with last_error); disconnected channels send nothing.
const (
	ChannelPending      = "pending"
	ChannelConnected    = "connected"
	ChannelDisconnected = "disconnected"
	ChannelError        = "error"
)

// ServiceWindow says whether free text to a customer needs their message in the last 24
// hours: Meta's rule for the Cloud API. A linked phone (QR) answers like WhatsApp on a
// phone does, at any time.
func (c Channel) ServiceWindow() bool { return c.Kind == KindWhatsAppCloud }
