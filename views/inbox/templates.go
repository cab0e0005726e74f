package inbox

import (
	"context"
	"strings"

	"masteria/views/ui"
)

func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}

func templateStatusKind(s string) string {
	switch s {
	case "APPROVED":
		return "success"
	case "PENDING", "IN_APPEAL", "PENDING_DELETION":
		return "warning"
	case "REJECTED", "DISABLED", "PAUSED":
		return "danger"
	}
	return "neutral"
}

func templateStatusName(ctx context.Context, s string) string {
	switch s {
	case "APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED":
		return ui.T(ctx, "templates.status."+strings.ToLower(s))
	}
	return s
}

func categoryName(ctx context.Context, c string) string {
	switch c {
	case "MARKETING", "UTILITY", "AUTHENTICATION":
		return ui.T(ctx, "templates.category."+strings.ToLower(c))
	}
	return c
}
