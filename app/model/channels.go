package model

// Channel statuses: a QR channel is pending until its phone is linked; a test that the
// provider refuses leaves error (with last_error); disconnected channels send nothing.
const (
	ChannelPending      = "pending"
	ChannelConnected    = "connected"
	ChannelDisconnected = "disconnected"
	ChannelError        = "error"
)
