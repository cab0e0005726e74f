// Command readmegen rewrites the metric definitions of the README named by its argument
// from analytics.Definitions. It runs through `go generate ./app/analytics`.
package main

import (
	"fmt"
	"os"

	"masteria/app/analytics"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: readmegen README.md")
		os.Exit(2)
	}
	path := os.Args[1]
	old, err := os.ReadFile(path)
	if err == nil {
		var out []byte
		if out, err = analytics.Readme(old); err == nil {
			err = os.WriteFile(path, out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
