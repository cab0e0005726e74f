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
