// Package fixtureargs holds what every Go fixture reads the same way, as the C fixtures share
// fixture_common.h: the run time in seconds, its first argument.
package fixtureargs

import (
	"fmt"
	"os"
	"strconv"
)

// Seconds is the run time the fixture was given as its first argument (fractions allowed, 0 = until killed), or 3
// without one. A malformed or negative value ends the program with exit status 2.
func Seconds() float64 {
	if len(os.Args) < 2 {
		return 3
	}
	s, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil || s < 0 {
		fmt.Fprintf(os.Stderr, "%s: bad duration %q\n", os.Args[0], os.Args[1])
		os.Exit(2)
	}
	return s
}
