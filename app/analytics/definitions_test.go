package analytics_test

import (
	"testing"

	"masteria/app/analytics"
	"masteria/app/i18n"
)

// TestDefinitionsWritten: every metric of the families this engine has is named and defined
// in both languages.
func TestDefinitionsWritten(t *testing.T) {
	for _, d := range analytics.Definitions {
		if d.Family != "messages" && d.Family != "conversations" {
			continue
		}
		for _, l := range i18n.Supported() {
			for _, k := range []string{"analytics.metric." + d.Key + ".name", "analytics.metric." + d.Key + ".about"} {
				if !i18n.Has(l, k) {
					t.Errorf("%s: no %s", l, k)
				}
			}
		}
	}
}
