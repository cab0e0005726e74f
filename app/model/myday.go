package model

import "time"

// WaitingConversation is an open conversation whose customer wrote last, waiting since
// their first message after the last reply.
type WaitingConversation struct {
	Conversation
	WaitingSince time.Time `db:"waiting_since"`
}
