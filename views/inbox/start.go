package inbox

import (
	"context"

	"masteria/views/ui"
)

// startBack is where the page's back link goes: the contact it was opened from, or the inbox.
func startBack(ctx context.Context, d StartData) string {
	if d.Contact != nil {
		return ui.OrgURL(ctx, "/contacts/"+id(d.Contact.ID))
	}
	return ui.OrgURL(ctx, "/inbox")
}

// startChannel keeps the chosen channel when a contact is picked.
func startChannel(channelID int64) string {
	if channelID <= 0 {
		return ""
	}
	return "&channel=" + id(channelID)
}
