package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/campc/campc/stdlib"
)

// parseInterleaved parses flags that may stand before, between or after
// positional arguments ("campc check examples --format json"); "--" ends
// the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet makes a flag set that reports errors (not panics, not exits)
// and prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: campc %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// choice is a flag whose value must be one of a fixed set.
type choice struct {
	value   string
	allowed []string
}

func (c *choice) String() string { return c.value }

func (c *choice) Set(s string) error {
	for _, a := range c.allowed {
		if s == a {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(c.allowed, ", "))
}

// flagSet reports whether a flag was given on the command line, to tell an
// explicit value from the default.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// clockEnd refuses a --now plus --until that leaves the clock's range: the
// clock could not get there, nor a store keep the times.
func clockEnd(start time.Time, until time.Duration) error {
	if end := start.Add(until); !stdlib.InTimeRange(end) {
		return fmt.Errorf("--until %s from %s ends at %s, outside the clock's range, %s", formatDays(until), start.Format(time.RFC3339), end.Format(time.RFC3339), stdlib.TimeRange)
	}
	return nil
}

// formatDays writes a duration as the days flag reads it.
func formatDays(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
