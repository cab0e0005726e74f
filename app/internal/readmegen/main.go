// Command readmegen rewrites the README's generated lists named by its argument: the event
// list from the event catalogue and the metric definitions from analytics.Definitions, so
// neither can drift from the code. It runs through `go generate ./app/events ./app/analytics`.
package main

import (
	"fmt"
	"os"

	"masteria/app/analytics"
	"masteria/app/events"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: readmegen README.md")
		os.Exit(2)
	}
	path := os.Args[1]
	text, err := os.ReadFile(path)
	for _, rewrite := range []func([]byte) ([]byte, error){events.Readme, analytics.Readme} {
		if err == nil {
			text, err = rewrite(text)
		}
	}
	if err == nil {
		err = os.WriteFile(path, text, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
