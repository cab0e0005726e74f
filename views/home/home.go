package home

import (
	"strconv"
	"strings"
)

// firstName greets people the way Brazilians do: by their first name.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return name
}

func percent(done, total int) string {
	if total == 0 {
		return "100%"
	}
	return strconv.Itoa(done*100/total) + "%"
}

// SetUpLeft tells whether some step of setting up the org is left, so the checklist stays
// above the dashboard: installing the app is each person's own (and only the browser knows
// it), not the org's.
func (d HomeData) SetUpLeft() bool {
	for _, it := range d.Items {
		if !it.Done && !it.Soon && it.Key != "install_app" {
			return true
		}
	}
	return false
}
